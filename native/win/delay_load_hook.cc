// For the mingw-w64 cross build only (scripts/cross/win32.mjs): Node-API and libuv are imported
// from "node.exe" with delayed loading, and this hook answers that import with the process's own
// executable, whatever its file is called (node20.exe, electron.exe). MSVC builds get the same
// from node-gyp's own delay-load hook, which is why binding.gyp does not list this file.
// delayimp.h, MSDN "Delay load hooks" (dliNotePreLoadLibrary).
#include <windows.h>
#include <delayimp.h>

namespace {

FARPROC WINAPI ResolveHost(unsigned event, PDelayLoadInfo info) {
  if (event != dliNotePreLoadLibrary || info == nullptr || info->szDll == nullptr) return nullptr;
  if (lstrcmpiA(info->szDll, "node.exe") != 0) return nullptr;
  return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
}

// Set while the DLL initialises, before any delayed import is first called. mingw-w64 keeps the
// hook as a variable of its runtime (not a symbol for us to define), so it is assigned.
struct InstallHook {
  InstallHook() { __pfnDliNotifyHook2 = ResolveHost; }
} install_hook;

}  // namespace
