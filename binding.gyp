{
  "targets": [
    {
      "target_name": "routebind",
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-Wall", "-Wextra"],
      "sources": ["native/addon.cc", "native/js_objects.cc", "native/watch.cc"],
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "native/linux/change_feed.cc",
            "native/linux/netlink_parser.cc",
            "native/linux/netlink_request.cc",
            "native/linux/pktinfo_control.cc",
            "native/linux/platform.cc",
            "native/linux/route_backend.cc",
            "native/linux/udp_pktinfo.cc",
            "native/posix/errors.cc",
            "native/posix/ip_address.cc",
            "native/posix/sockets.cc"
          ]
        }],
        ["OS=='mac'", {
          "sources": [
            "native/darwin/change_feed.cc",
            "native/darwin/platform.cc",
            "native/darwin/route_backend.cc",
            "native/darwin/route_message.cc",
            "native/posix/errors.cc",
            "native/posix/ip_address.cc",
            "native/posix/sockets.cc"
          ],
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "CLANG_CXX_LIBRARY": "libc++",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "OTHER_CPLUSPLUSFLAGS": ["-fstack-protector-strong", "-Wall", "-Wextra"]
          }
        }],
        ["OS=='win'", {
          "sources": [
            "native/win/change_feed.cc",
            "native/win/errors.cc",
            "native/win/ip_address.cc",
            "native/win/platform.cc",
            "native/win/route_backend.cc"
          ],
          "defines": ["_HAS_EXCEPTIONS=1", "WIN32_LEAN_AND_MEAN", "NOMINMAX", "_WIN32_WINNT=0x0600"],
          "libraries": ["-liphlpapi", "-lws2_32"],
          "msvs_settings": {
            "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/guard:cf", "/sdl"] },
            "VCLinkerTool": { "AdditionalOptions": ["/guard:cf"] }
          }
        }],
        ["OS!='linux' and OS!='mac' and OS!='win'", {
          "sources": [
            "native/unsupported/backend.cc",
            "native/posix/errors.cc",
            "native/posix/ip_address.cc"
          ]
        }]
      ]
    }
  ]
}
