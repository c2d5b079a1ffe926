// socket(2), setsockopt(2) and bind(2) for the sockets routebind hands to Node; shared by Linux and
// macOS, whose only difference (SO_BINDTODEVICE vs IP_BOUND_IF) is the PinToInterface variant.
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "backend.h"
#include "errors.h"
#include "ip_address.h"
#include "sockets.h"

// Linux's numbers, for C libraries older than the kernel. Never on macOS, where 24 is
// IP_RECVTTL: an option macOS lacks is left out, not defined by number.
#if defined(__linux__)
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#endif

namespace routebind {

namespace {

int SetOption(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

#if defined(__linux__)
const char* const kPinMechanism = "SO_BINDTODEVICE";

// Kernels before 5.0 lack SO_BINDTOIFINDEX (before 4.2, IP_BIND_ADDRESS_NO_PORT): once one socket
// has been told so, later sockets skip the call that would fail, one system call each.
std::atomic<bool> no_bind_to_ifindex{false};
std::atomic<bool> no_bind_address_no_port{false};

int PinToInterface(int fd, const SocketSpec& spec) {
  // By index first: no name to go stale between the lookup and the pin.
  if (!no_bind_to_ifindex.load(std::memory_order_relaxed)) {
    int index = static_cast<int>(spec.ifindex);
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &index, sizeof index) == 0) return 0;
    if (errno != ENOPROTOOPT) return errno;
    no_bind_to_ifindex.store(true, std::memory_order_relaxed);
  }
  if (spec.ifname.empty()) return ENOPROTOOPT;
  return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, spec.ifname.c_str(),
                    static_cast<socklen_t>(spec.ifname.size() + 1)) == 0
             ? 0
             : errno;
}
#elif defined(__APPLE__)
const char* const kPinMechanism = "IP_BOUND_IF";

// By index, unprivileged, and as often as wanted. It constrains what the socket sends (and
// which scoped route it uses); whether it also refuses what arrives through other interfaces, as
// SO_BINDTODEVICE does, macOS does not document.
int PinToInterface(int fd, const SocketSpec& spec) {
  int index = static_cast<int>(spec.ifindex);
  if (spec.version == 6) return SetOption(fd, IPPROTO_IPV6, IPV6_BOUND_IF, index);
  return SetOption(fd, IPPROTO_IP, IP_BOUND_IF, index);
}
#endif

#if defined(__APPLE__)
// macOS has neither SOCK_CLOEXEC / SOCK_NONBLOCK nor dup3: the flags are set right after, on a
// number no other thread of this addon has seen yet.
int OpenSocket(int family, int type) {
  int fd = socket(family, type, 0);
  if (fd < 0) return -1;
  int fl = fcntl(fd, F_GETFL);
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    int error = errno;
    close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// dup2 clears FD_CLOEXEC on `to`; put it back as dup3(..., O_CLOEXEC) would have.
int DuplicateOnto(int from, int to) {
  if (dup2(from, to) < 0) return -1;
  return fcntl(to, F_SETFD, FD_CLOEXEC) < 0 ? -1 : 0;
}
const char* const kDupCall = "dup2";
// TCP_KEEPIDLE's name on macOS.
constexpr int kTcpKeepIdle = TCP_KEEPALIVE;
#else
int OpenSocket(int family, int type) { return socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); }
int DuplicateOnto(int from, int to) { return dup3(from, to, O_CLOEXEC); }
const char* const kDupCall = "dup3";
constexpr int kTcpKeepIdle = TCP_KEEPIDLE;
#endif

// Options Node may already have applied to a placeholder (setNoDelay, setKeepAlive) would be lost
// with it; carry them over to the socket that replaces it.
void CopyStreamOptions(int from, int to) {
  const int options[][2] = {{IPPROTO_TCP, TCP_NODELAY}, {SOL_SOCKET, SO_KEEPALIVE},
                            {IPPROTO_TCP, kTcpKeepIdle}, {IPPROTO_TCP, TCP_KEEPINTVL},
                            {IPPROTO_TCP, TCP_KEEPCNT}};
  for (const auto& option : options) {
    int value = 0;
    socklen_t len = sizeof value;
    if (getsockopt(from, option[0], option[1], &value, &len) == 0) {
      setsockopt(to, option[0], option[1], &value, sizeof value);
    }
  }
}

// What an fd number refers to: device and inode as fstat(2) reports them. A number can be closed
// and handed out again to a file or another socket; an open socket's inode is its own.
bool IdentityOf(int fd, std::string* out) {
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  *out = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
  return true;
}

// A file descriptor argument: a non-negative integer, checked before any system call.
int FdArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Env env = info.Env();
  if (!info[index].IsNumber()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", std::string(name) + " must be a file descriptor");
  }
  double d = info[index].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 0x7fffffff) || d != static_cast<double>(static_cast<int>(d))) {
    throw TypedError(env, "RangeError", "ERR_OUT_OF_RANGE", std::string(name) + " is not a file descriptor");
  }
  return static_cast<int>(d);
}

// Builds the socket step by step; any failure closes the fd before it reports, so no path leaks.
Status CreateBoundSocket(const SocketSpec& spec, SocketResult* out) {
  int family = spec.version == 6 ? AF_INET6 : AF_INET;
  int type = spec.stream ? SOCK_STREAM : SOCK_DGRAM;
  // Non-blocking from birth: libuv would set it anyway, and a socket installed over another fd
  // number keeps the flags of its own open file description, not the old one's.
  int fd = OpenSocket(family, type);
  if (fd < 0) return Status::Fail(errno, "socket");
  auto fail = [fd](int error, const char* syscall) {
    close(fd);
    return Status::Fail(error, syscall);
  };

  int err = 0;
  if (spec.version == 6 && spec.v6only >= 0) {
    if ((err = SetOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, spec.v6only))) return fail(err, "setsockopt");
  }
  if (spec.reuse_address) {
    if ((err = SetOption(fd, SOL_SOCKET, SO_REUSEADDR, 1))) return fail(err, "setsockopt");
  }
  if (spec.reuse_port) {
    if ((err = SetOption(fd, SOL_SOCKET, SO_REUSEPORT, 1))) return fail(err, "setsockopt");
  }
  if (spec.has_mark) {
#if defined(SO_MARK)
    if ((err = SetOption(fd, SOL_SOCKET, SO_MARK, static_cast<int>(spec.mark)))) {
      return fail(err, "setsockopt");
    }
#else
    return fail(ENOTSUP, "setsockopt");
#endif
  }
  if (spec.ifindex != 0) {
    err = PinToInterface(fd, spec);
    if (err == 0) {
      out->pinned = true;
    } else if (spec.strict || (err != EPERM && err != EACCES && err != ENOPROTOOPT)) {
      return fail(err, "setsockopt");
    } else {
      out->pin_error = err;
    }
  }
#if defined(__linux__)
  if (spec.stream && spec.bind_address_no_port && spec.port == 0 &&
      !no_bind_address_no_port.load(std::memory_order_relaxed)) {
    // The port is chosen at connect(), per destination, as for an unbound socket: without it
    // bind() takes a port for every destination at once, and a host runs out after
    // ip_local_port_range connections where net.connect would not (bench/SYSCALLS.md).
    if (SetOption(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1) == ENOPROTOOPT) {
      no_bind_address_no_port.store(true, std::memory_order_relaxed);
    }
  }
#endif  // macOS has no such option: its bind() takes the port at once, as without it

  struct sockaddr_storage ss = {};
  socklen_t len;
  if (spec.version == 6) {
    auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(spec.port);
    sin6->sin6_scope_id = spec.scope_id;
    if (spec.address.present()) std::memcpy(&sin6->sin6_addr, spec.address.bytes, 16);
    len = sizeof *sin6;
  } else {
    auto* sin = reinterpret_cast<struct sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(spec.port);
    if (spec.address.present()) std::memcpy(&sin->sin_addr, spec.address.bytes, 4);
    len = sizeof *sin;
  }
  if (spec.bind && bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) < 0) {
    return fail(errno, "bind");
  }
  out->fd = fd;
  return Status::Ok();
}

bool BoolOption(Napi::Object o, const char* key) { return o.Get(key).ToBoolean().Value(); }

// A whole number in [0, max] or undefined (0, *present false): the range check every numeric
// socket option gets, by key for createSocket and by position for createSocketFrom.
uint32_t UintValue(Napi::Value v, const char* key, uint32_t max, bool* present = nullptr) {
  if (present) *present = !v.IsUndefined();
  if (v.IsUndefined()) return 0;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    throw TypedError(v.Env(), "RangeError", "ERR_OUT_OF_RANGE",
                     std::string("The \"") + key + "\" option is out of range");
  }
  return static_cast<uint32_t>(d);
}

// The fields createSocket and createSocketFrom share, checked the same way whichever way they came.
void ReadAddressing(Napi::Env env, Napi::Value version, Napi::Value type, Napi::Value address,
                    Napi::Value port, Napi::Value scope_id, Napi::Value ifindex, Napi::Value ifname,
                    SocketSpec* spec) {
  uint32_t v = UintValue(version, "version", 6);
  if (v != 4 && v != 6) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_VALUE", "version must be 4 or 6");
  }
  spec->version = static_cast<uint8_t>(v);
  if (!type.IsString()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "type must be 'tcp' or 'udp'");
  }
  std::string type_name = type.As<Napi::String>().Utf8Value();
  if (type_name != "tcp" && type_name != "udp") {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_VALUE", "type must be 'tcp' or 'udp'");
  }
  spec->stream = type_name == "tcp";
  if (!address.IsUndefined()) {
    if (!address.IsString() || !ParseIpAddress(address.As<Napi::String>().Utf8Value(), &spec->address) ||
        spec->address.version != spec->version) {
      throw TypedError(env, "TypeError", "ERR_INVALID_IP_ADDRESS",
                       "address is not an IP address of the socket's version");
    }
  }
  spec->port = static_cast<uint16_t>(UintValue(port, "port", 0xffff));
  spec->scope_id = UintValue(scope_id, "scopeId", 0x7fffffff);
  spec->ifindex = UintValue(ifindex, "ifindex", 0x7fffffff);
  if (ifname.IsString()) spec->ifname = ifname.As<Napi::String>().Utf8Value();
  if (spec->ifname.size() >= IFNAMSIZ || spec->ifname.find('\0') != std::string::npos) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_VALUE", "ifname is not an interface name");
  }
}

// Creates the socket a checked spec describes and hands JS { fd, identity?, pinned, pinError? }.
Napi::Value MakeSocket(Napi::Env env, const SocketSpec& spec, bool with_identity) {
  SocketResult result;
  Status s = CreateBoundSocket(spec, &result);
  if (!s.ok()) {
    std::string detail;
    if (std::string(s.syscall) == "bind") {
      detail = spec.address.present() ? FormatIpAddress(spec.address) : (spec.version == 6 ? "::" : "0.0.0.0");
      if (spec.port != 0) detail += ":" + std::to_string(spec.port);
    } else if (spec.ifindex != 0 && !spec.ifname.empty()) {
      detail = spec.ifname;
    }
    throw SystemError(env, s, detail);
  }
  // From here the fd is ours until JS holds its number: nothing may throw without closing it.
  std::string identity;
  if (with_identity && !IdentityOf(result.fd, &identity)) {
    int error = errno;
    close(result.fd);
    throw SystemError(env, Status::Fail(error, "fstat"));
  }
  try {
    Napi::Object out = Napi::Object::New(env);
    out.Set("fd", result.fd);
    if (with_identity) out.Set("identity", identity);
    out.Set("pinned", result.pinned ? Napi::Value(Napi::String::New(env, kPinMechanism))
                                    : env.Null());
    if (result.pin_error != 0) out.Set("pinError", ErrorCodeName(result.pin_error));
    return out;
  } catch (...) {
    close(result.fd);
    throw;
  }
}


// createSocket({ version, type, address?, port?, scopeId?, ifindex?, ifname?, strict?, mark?,
//                reuseAddress?, reusePort?, bindAddressNoPort?, v6only?, unbound? })
//   → { fd, identity, pinned, pinError? }
Napi::Value CreateSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "options must be an object");
  }
  Napi::Object o = info[0].As<Napi::Object>();
  SocketSpec spec;
  ReadAddressing(env, o.Get("version"), o.Get("type"), o.Get("address"), o.Get("port"),
                 o.Get("scopeId"), o.Get("ifindex"), o.Get("ifname"), &spec);
  spec.strict = BoolOption(o, "strict");
  spec.mark = UintValue(o.Get("mark"), "mark", 0xffffffffu, &spec.has_mark);
  spec.reuse_address = BoolOption(o, "reuseAddress");
  spec.reuse_port = BoolOption(o, "reusePort");
  spec.bind_address_no_port = BoolOption(o, "bindAddressNoPort");
  spec.bind = !BoolOption(o, "unbound");
  Napi::Value v6only = o.Get("v6only");
  if (!v6only.IsUndefined()) spec.v6only = v6only.ToBoolean().Value() ? 1 : 0;

  return MakeSocket(env, spec, true);
}

// createSocketFrom(version, type, address, port, scopeId, ifindex, ifname, flags, mark)
//   → { fd, pinned, pinError? }: createSocket for the connect path, with the same checks, but
// positional (no property reads through N-API) and without the identity (an fstat only the
// adoptSocket placeholder needs). address / ifname / mark may be undefined; flags is a bit set
// of kFlag* below.
constexpr uint32_t kFlagStrict = 1, kFlagReuseAddress = 2, kFlagReusePort = 4,
                   kFlagBindAddressNoPort = 8, kFlagV6onlySet = 16, kFlagV6only = 32;

Napi::Value CreateSocketFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketSpec spec;
  ReadAddressing(env, info[0], info[1], info[2], info[3], info[4], info[5], info[6], &spec);
  uint32_t flags = UintValue(info[7], "flags", 0xff);
  spec.strict = (flags & kFlagStrict) != 0;
  spec.reuse_address = (flags & kFlagReuseAddress) != 0;
  spec.reuse_port = (flags & kFlagReusePort) != 0;
  spec.bind_address_no_port = (flags & kFlagBindAddressNoPort) != 0;
  if (flags & kFlagV6onlySet) spec.v6only = (flags & kFlagV6only) ? 1 : 0;
  spec.mark = UintValue(info[8], "mark", 0xffffffffu, &spec.has_mark);
  return MakeSocket(env, spec, false);
}

// adoptSocket(from, to, identity): makes fd `to` (a placeholder socket Node already wraps) refer to
// the socket behind `from`, carrying over the stream options Node may have set on the placeholder.
// `identity` is what createSocket reported for the placeholder: if `to` is closed, or its number
// now names a file or another socket, dup3 would put the connection there (bytes written to the
// file would reach the peer), or open a number nobody owns; refuse with EBADF instead.
// `from` stays open: it belongs to whoever wraps it, who closes it.
Napi::Value AdoptSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsString()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE",
                     "adoptSocket(from, to, identity) takes two fds and the placeholder's identity");
  }
  int from = FdArgument(info, 0, "from");
  int to = FdArgument(info, 1, "to");
  std::string expected = info[2].As<Napi::String>().Utf8Value();
  if (from == to) {
    throw TypedError(env, "RangeError", "ERR_OUT_OF_RANGE", "adoptSocket needs two distinct fds");
  }
  if (expected.empty()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_VALUE", "identity must be the one createSocket returned");
  }
  // Nothing else runs on this thread between the check and dup3; another thread of the process
  // could still close and reuse `to` in between, which no POSIX call can rule out.
  std::string actual;
  if (!IdentityOf(to, &actual) || actual != expected) {
    throw SystemError(env, Status::Fail(EBADF, kDupCall),
                      "fd " + std::to_string(to) + " is no longer the placeholder socket");
  }
  struct stat st;
  if (fstat(from, &st) != 0) throw SystemError(env, Status::Fail(errno, "fstat"));
  if (!S_ISSOCK(st.st_mode)) throw SystemError(env, Status::Fail(ENOTSOCK, kDupCall));
  CopyStreamOptions(to, from);
  if (DuplicateOnto(from, to) < 0) throw SystemError(env, Status::Fail(errno, kDupCall));
  return env.Undefined();
}

// setSocketReuse(fd, reuseAddress, reusePort): sets both options to exactly these values. libuv's
// uv_udp_open turns on SO_REUSEADDR (SO_REUSEPORT on macOS) for every fd Node wraps, which would
// let any local process bind the same port and share its datagrams.
Napi::Value SetSocketReuse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArgument(info, 0, "fd");
  if (!info[1].IsBoolean() || !info[2].IsBoolean()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "reuseAddress and reusePort must be booleans");
  }
  int err = SetOption(fd, SOL_SOCKET, SO_REUSEADDR, info[1].As<Napi::Boolean>().Value() ? 1 : 0);
  if (err == 0) err = SetOption(fd, SOL_SOCKET, SO_REUSEPORT, info[2].As<Napi::Boolean>().Value() ? 1 : 0);
  if (err != 0) throw SystemError(env, Status::Fail(err, "setsockopt"));
  return env.Undefined();
}

// pinSocket(fd, ifindex, ifname, strict) → { pinned, pinError? }: pins a socket that is already
// bound, where it stands. For a cluster worker's UDP socket that Node shares through the primary:
// every worker holds the same socket, so a worker finding it pinned there already leaves it (a
// second SO_BINDTODEVICE would need CAP_NET_RAW).
Napi::Value PinSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "pinSocket(fd, ifindex, ifname, strict) takes an fd and an index");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  double index = info[1].As<Napi::Number>().DoubleValue();
  if (fd < 0 || !(index >= 1 && index <= 0x7fffffff) || index != static_cast<double>(static_cast<uint32_t>(index))) {
    throw TypedError(env, "RangeError", "ERR_OUT_OF_RANGE", "pinSocket needs an fd and an interface index");
  }
  SocketSpec spec;
  spec.ifindex = static_cast<uint32_t>(index);
  if (info[2].IsString()) spec.ifname = info[2].As<Napi::String>().Utf8Value();
  if (spec.ifname.size() >= IFNAMSIZ || spec.ifname.find('\0') != std::string::npos) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_VALUE", "ifname is not an interface name");
  }
  bool strict = info[3].ToBoolean().Value();
  struct sockaddr_storage ss = {};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) != 0) {
    throw SystemError(env, Status::Fail(errno, "getsockname"));
  }
  spec.version = ss.ss_family == AF_INET6 ? 6 : 4;
  Napi::Object out = Napi::Object::New(env);
#if defined(__linux__)
  int current = 0;
  socklen_t current_len = sizeof current;
  if (getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &current, &current_len) == 0 &&
      current == static_cast<int>(spec.ifindex)) {
    out.Set("pinned", Napi::String::New(env, kPinMechanism));
    return out;
  }
#endif
  int err = PinToInterface(fd, spec);
  if (err != 0 && (strict || (err != EPERM && err != EACCES && err != ENOPROTOOPT))) {
    throw SystemError(env, Status::Fail(err, "setsockopt"), spec.ifname);
  }
  out.Set("pinned", err == 0 ? Napi::Value(Napi::String::New(env, kPinMechanism)) : env.Null());
  if (err != 0) out.Set("pinError", ErrorCodeName(err));
  return out;
}

// For the one case where the fd is still ours: Node refused to wrap it.
Napi::Value CloseSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArgument(info, 0, "fd");
  // On Linux the number is released even when close() reports EINTR; retrying could close a
  // number another thread was just given, so EINTR counts as closed.
  if (close(fd) != 0 && errno != EINTR) throw SystemError(env, Status::Fail(errno, "close"));
  return env.Undefined();
}

}  // namespace

void InitSockets(Napi::Env env, Napi::Object exports) {
  exports.Set("createSocket", Napi::Function::New(env, CreateSocket, "createSocket"));
  exports.Set("createSocketFrom", Napi::Function::New(env, CreateSocketFrom, "createSocketFrom"));
  exports.Set("closeSocket", Napi::Function::New(env, CloseSocket, "closeSocket"));
  exports.Set("adoptSocket", Napi::Function::New(env, AdoptSocket, "adoptSocket"));
  exports.Set("setSocketReuse", Napi::Function::New(env, SetSocketReuse, "setSocketReuse"));
  exports.Set("pinSocket", Napi::Function::New(env, PinSocket, "pinSocket"));
  exports.Set("pinMechanism", Napi::String::New(env, kPinMechanism));
}

}  // namespace routebind
