{
  "targets": [
    {
      "target_name": "routebind",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"],
      "sources": ["native/addon.cc", "native/js_objects.cc", "native/watch.cc"],
      "cflags_cc": ["-std=c++17", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "native/change_feed_linux.cc",
            "native/errors_posix.cc",
            "native/ip_address_posix.cc",
            "native/netlink_parser.cc",
            "native/netlink_request.cc",
            "native/route_linux.cc",
            "native/socket_posix.cc"
          ]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "OTHER_CPLUSPLUSFLAGS": ["-fstack-protector-strong"]
          }
        }],
        ["OS=='win'", {
          "msvs_settings": {
            "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/guard:cf", "/sdl"] },
            "VCLinkerTool": { "AdditionalOptions": ["/guard:cf"] }
          }
        }]
      ]
    }
  ]
}
