// A wildcard-bound UDP socket that learns, per datagram, the address it was sent to and the
// interface it arrived on (recvmsg(2) with IP_PKTINFO / IPV6_RECVPKTINFO, ip(7), ipv6(7)), and
// answers from that address through the interface that owns it (sendmsg(2) with IP_PKTINFO /
// IPV6_PKTINFO). libuv's receive path drops ancillary data, so this one reads the socket itself.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "errors.h"
#include "pktinfo_control.h"
#include "udp_pktinfo.h"

namespace routebind {

namespace {

// As libuv's uv__udp_recvmsg: a bounded batch per wake-up, so one busy socket cannot starve the loop.
constexpr int kBatch = 32;
constexpr size_t kDatagramMax = 64 * 1024;
constexpr size_t kIovMax = 1024;

bool IsMapped(const in6_addr& a) { return IN6_IS_ADDR_V4MAPPED(&a); }

std::string Text(int family, const void* address) {
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family, address, text, sizeof text) == nullptr) return std::string();
  return std::string(text);
}

// An address as a JS string, on the per-datagram path: glibc's inet_ntop formats IPv4 with
// sprintf, which shows in a profile at tens of thousands of datagrams a second.
Napi::String AddressString(Napi::Env env, int family, const void* address, const char* prefix = "") {
  char text[8 + INET6_ADDRSTRLEN];
  size_t n = 0;
  while (*prefix != '\0' && n < 8) text[n++] = *prefix++;
  if (family == AF_INET) {
    const uint8_t* b = static_cast<const uint8_t*>(address);
    for (int i = 0; i < 4; ++i) {
      unsigned v = b[i];
      if (v >= 100) text[n++] = static_cast<char>('0' + v / 100);
      if (v >= 10) text[n++] = static_cast<char>('0' + (v / 10) % 10);
      text[n++] = static_cast<char>('0' + v % 10);
      if (i < 3) text[n++] = '.';
    }
  } else if (inet_ntop(AF_INET6, address, text + n, INET6_ADDRSTRLEN) != nullptr) {
    n += std::strlen(text + n);
  }
  return Napi::String::New(env, text, n);
}

class PktinfoReader : public Napi::ObjectWrap<PktinfoReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PktinfoReader",
                       {InstanceMethod("start", &PktinfoReader::Start),
                        InstanceMethod("stop", &PktinfoReader::Stop),
                        InstanceMethod("ref", &PktinfoReader::RefLoop),
                        InstanceMethod("unref", &PktinfoReader::UnrefLoop),
                        InstanceMethod("close", &PktinfoReader::Close)});
  }

  // new PktinfoReader(fd, version, callback(nread, buffer, address, port, scopeId, localAddress, ifindex))
  explicit PktinfoReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PktinfoReader>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsFunction()) {
      throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "expected (fd, version, callback)");
    }
    int fd = info[0].As<Napi::Number>().Int32Value();
    version_ = info[1].As<Napi::Number>().Int32Value() == 6 ? 6 : 4;
    int on = 1;
    // A dual-stack IPv6 socket reports IPv4 datagrams with IP_PKTINFO, so it asks for both.
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0 && version_ == 4) {
      throw SystemError(env, Status::Fail(errno, "setsockopt"));
    }
    if (version_ == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) != 0) {
      throw SystemError(env, Status::Fail(errno, "setsockopt"));
    }
    // Its own descriptor of the same socket: libuv keeps Node's fd in its epoll set (for sends),
    // and one fd cannot be watched by two libuv handles.
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) throw SystemError(env, Status::Fail(errno, "fcntl"));
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      close(own);
      throw SystemError(env, Status::Fail(EINVAL, "uv_default_loop"));
    }
    auto* h = new Loop();
    int err = uv_poll_init(loop, &h->poll, own);
    if (err != 0) {
      delete h;
      close(own);
      throw SystemError(env, Status::Fail(-err, "uv_poll_init"));
    }
    h->fd = own;
    h->owner = this;
    h->poll.data = h;
    napi_add_async_cleanup_hook(env, OnTeardown, h, &h->hook);
    loop_ = h;
    buffer_.resize(kDatagramMax);
    callback_ = Napi::Persistent(info[2].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "routebind:udp");
  }

  ~PktinfoReader() override { CloseLoop(); }

 private:
  struct Loop {
    uv_poll_t poll;
    int fd = -1;
    PktinfoReader* owner = nullptr;
    napi_async_cleanup_hook_handle hook = nullptr;
  };

  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (loop_ != nullptr && !polling_) {
      int err = uv_poll_start(&loop_->poll, UV_READABLE, OnReadable);
      if (err != 0) return Napi::Number::New(info.Env(), err);
      polling_ = true;
      if (!held_) {
        Napi::ObjectWrap<PktinfoReader>::Ref();
        held_ = true;
      }
    }
    return Napi::Number::New(info.Env(), 0);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (loop_ != nullptr && polling_) uv_poll_stop(&loop_->poll);
    polling_ = false;
    return Napi::Number::New(info.Env(), 0);
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (loop_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&loop_->poll));
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (loop_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&loop_->poll));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseLoop();
    if (held_) {
      held_ = false;
      Napi::ObjectWrap<PktinfoReader>::Unref();
    }
    return info.Env().Undefined();
  }

  // Node closes its own descriptor at once (uv_close on a UDP handle), and the port is free when
  // close() returns: so is this one. uv_close on a poll handle stops watching synchronously and
  // never touches the descriptor again, so closing it right after is safe.
  void CloseLoop() {
    Loop* h = loop_;
    if (h == nullptr) return;
    loop_ = nullptr;
    polling_ = false;
    h->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), [](uv_handle_t* handle) {
      auto* closed = static_cast<Loop*>(handle->data);
      napi_async_cleanup_hook_handle hook = closed->hook;
      delete closed;
      if (hook != nullptr) napi_remove_async_cleanup_hook(hook);
    });
    close(h->fd);
    h->fd = -1;
  }

  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
    auto* h = static_cast<Loop*>(arg);
    h->hook = hook;
    if (h->owner != nullptr) h->owner->CloseLoop();
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* h = static_cast<Loop*>(handle->data);
    PktinfoReader* self = h->owner;
    if (self == nullptr) return;
    try {
      self->Read(status);
    } catch (...) {
      // The environment is ending: nothing can be told to JS any more.
    }
  }

  void Read(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      Deliver(env, {Napi::Number::New(env, status)});
      return;
    }
    for (int i = 0; i < kBatch && polling_ && loop_ != nullptr; ++i) {
      sockaddr_storage peer;
      alignas(struct cmsghdr) uint8_t control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo)) + 64];
      iovec iov{buffer_.data(), buffer_.size()};
      msghdr m{};
      m.msg_name = &peer;
      m.msg_namelen = sizeof peer;
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      ssize_t n;
      do {
        n = recvmsg(loop_->fd, &m, MSG_DONTWAIT);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        Deliver(env, {Napi::Number::New(env, -errno)});
        return;
      }
      Napi::HandleScope each(env);
      PacketDestination to;
      size_t control_length = m.msg_controllen < sizeof control ? m.msg_controllen : sizeof control;
      if (ParsePktinfoControl(control, control_length, &to) != ControlResult::kOk) to.version = 0;
      Napi::Value address = env.Undefined();
      uint32_t port = 0, scope_id = 0;
      if (peer.ss_family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&peer);
        address = AddressString(env, AF_INET, &a->sin_addr);
        port = ntohs(a->sin_port);
      } else if (peer.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&peer);
        address = AddressString(env, AF_INET6, &a->sin6_addr);
        port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) scope_id = a->sin6_scope_id;
      }
      Napi::Value local = env.Undefined();
      if (to.version == 6) {
        local = AddressString(env, AF_INET6, to.address);
      } else if (to.version == 4) {
        local = AddressString(env, AF_INET, to.address, version_ == 6 ? "::ffff:" : "");
      }
      // A datagram longer than the buffer is cut, as libuv's is (MSG_TRUNC is not reported).
      size_t size = static_cast<size_t>(n) < buffer_.size() ? static_cast<size_t>(n) : buffer_.size();
      Deliver(env, {Napi::Number::New(env, static_cast<double>(size)),
                    Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), size),
                    address, Napi::Number::New(env, port),
                    Napi::Number::New(env, scope_id), local, Napi::Number::New(env, to.ifindex)});
    }
  }

  // An exception thrown by a 'message' listener is the program's uncaught exception, as for
  // Node's own receive path.
  void Deliver(Napi::Env env, const std::initializer_list<napi_value>& args) {
    try {
      callback_.MakeCallback(Value(), args, *context_);
    } catch (const Napi::Error& e) {
      napi_value exception = e.Value();
      if (exception != nullptr) napi_fatal_exception(env, exception);
    }
  }

  Loop* loop_ = nullptr;
  int version_ = 4;
  bool polling_ = false;
  bool held_ = false;
  std::vector<uint8_t> buffer_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

// sendFrom(fd, version, list, port, address, scopeId, source, ifindex): one sendmsg(2) with the
// source and the outgoing interface in a pktinfo control message. Returns libuv's convention as
// Node's handle.send does: bytes sent + 1, or a negative errno.
Napi::Value SendFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsArray() || !info[3].IsNumber() ||
      !info[4].IsString() || !info[5].IsNumber() || !info[6].IsString() || !info[7].IsNumber()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE",
                     "expected (fd, version, list, port, address, scopeId, source, ifindex)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool six = info[1].As<Napi::Number>().Int32Value() == 6;
  Napi::Array list = info[2].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count > kIovMax) return Napi::Number::New(env, -EMSGSIZE);
  // One datagram is usually one buffer: no allocation on the way.
  iovec one;
  std::vector<iovec> many;
  iovec* iov = &one;
  if (count > 1) {
    many.resize(count);
    iov = many.data();
  }
  for (uint32_t i = 0; i < count; ++i) {
    napi_value item;
    if (napi_get_element(env, list, i, &item) != napi_ok) return Napi::Number::New(env, -EINVAL);
    bool is_view = false;
    napi_is_typedarray(env, item, &is_view);
    if (!is_view) return Napi::Number::New(env, -EINVAL);
    napi_typedarray_type kind;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, item, &kind, &length, &data, nullptr, nullptr) != napi_ok) {
      return Napi::Number::New(env, -EINVAL);
    }
    size_t element = kind == napi_uint8_array || kind == napi_int8_array || kind == napi_uint8_clamped_array ? 1
                     : kind == napi_int16_array || kind == napi_uint16_array ? 2
                     : kind == napi_float64_array || kind == napi_bigint64_array || kind == napi_biguint64_array ? 8 : 4;
    iov[i].iov_base = data;
    iov[i].iov_len = length * element;
  }
  uint32_t port = info[3].As<Napi::Number>().Uint32Value();
  // Literals only (at most INET6_ADDRSTRLEN): read into the stack, longer ones are not addresses.
  char address_text[INET6_ADDRSTRLEN + 1];
  char source_text[INET6_ADDRSTRLEN + 1];
  size_t copied = 0;
  if (napi_get_value_string_utf8(env, info[4], address_text, sizeof address_text, &copied) != napi_ok ||
      copied >= sizeof address_text - 1) {
    return Napi::Number::New(env, -EINVAL);
  }
  if (napi_get_value_string_utf8(env, info[6], source_text, sizeof source_text, &copied) != napi_ok ||
      copied >= sizeof source_text - 1) {
    return Napi::Number::New(env, -EINVAL);
  }
  uint32_t scope_id = info[5].As<Napi::Number>().Uint32Value();
  uint32_t ifindex = info[7].As<Napi::Number>().Uint32Value();
  if (port == 0 || port > 65535) return Napi::Number::New(env, -EINVAL);

  sockaddr_storage to{};
  socklen_t to_length = 0;
  alignas(struct cmsghdr) uint8_t control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
  size_t control_length = 0;
  struct cmsghdr* c = reinterpret_cast<struct cmsghdr*>(control);
  in_addr source4{};
  bool v4_source = false;
  if (six) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&to);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    a->sin6_scope_id = scope_id;
    if (inet_pton(AF_INET6, address_text, &a->sin6_addr) != 1) return Napi::Number::New(env, -EINVAL);
    to_length = sizeof *a;
    in6_addr from{};
    if (inet_pton(AF_INET6, source_text, &from) != 1) return Napi::Number::New(env, -EINVAL);
    if (IsMapped(a->sin6_addr)) {
      // To an IPv4 client of a dual-stack socket the kernel takes the IPv4 form (udp_sendmsg).
      if (!IsMapped(from)) return Napi::Number::New(env, -EINVAL);
      std::memcpy(&source4, &from.s6_addr[12], 4);
      v4_source = true;
    } else {
      in6_pktinfo p{};
      p.ipi6_addr = from;
      p.ipi6_ifindex = ifindex;
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof p);
      std::memcpy(CMSG_DATA(c), &p, sizeof p);
      control_length = CMSG_SPACE(sizeof p);
    }
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&to);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, address_text, &a->sin_addr) != 1) return Napi::Number::New(env, -EINVAL);
    to_length = sizeof *a;
    if (inet_pton(AF_INET, source_text, &source4) != 1) return Napi::Number::New(env, -EINVAL);
    v4_source = true;
  }
  if (v4_source) {
    in_pktinfo p{};
    p.ipi_ifindex = static_cast<int>(ifindex);
    p.ipi_spec_dst = source4;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof p);
    std::memcpy(CMSG_DATA(c), &p, sizeof p);
    control_length = CMSG_SPACE(sizeof p);
  }
  msghdr m{};
  m.msg_name = &to;
  m.msg_namelen = to_length;
  m.msg_iov = iov;
  m.msg_iovlen = count;
  m.msg_control = control;
  m.msg_controllen = control_length;
  ssize_t n;
  do {
    n = sendmsg(fd, &m, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Napi::Number::New(env, -errno);
  return Napi::Number::New(env, static_cast<double>(n) + 1);
}

// Test entry: the parser over bytes from JS. null when no pktinfo is present.
Napi::Value ParseControl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "expected a Uint8Array");
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  PacketDestination to;
  if (ParsePktinfoControl(bytes.Data(), bytes.ByteLength(), &to) != ControlResult::kOk) {
    throw TypedError(env, "TypeError", "ERR_PKTINFO_MALFORMED", "a control message runs past the buffer or is shorter than its type");
  }
  if (to.version == 0) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", static_cast<double>(to.version));
  o.Set("address", Text(to.version == 6 ? AF_INET6 : AF_INET, to.address));
  if (to.version == 4) o.Set("local", Text(AF_INET, to.local));
  o.Set("ifindex", static_cast<double>(to.ifindex));
  return o;
}

// Test entry: what the kernel's CMSG macros lay out, so tests build control buffers that match this ABI.
Napi::Value ControlLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("header", static_cast<double>(CMSG_LEN(0)));
  o.Set("lengthSize", static_cast<double>(sizeof(static_cast<struct cmsghdr*>(nullptr)->cmsg_len)));
  o.Set("align", static_cast<double>(CMSG_ALIGN(1)));
  o.Set("solIp", static_cast<double>(IPPROTO_IP));
  o.Set("solIpv6", static_cast<double>(IPPROTO_IPV6));
  o.Set("ipPktinfo", static_cast<double>(IP_PKTINFO));
  o.Set("ipv6Pktinfo", static_cast<double>(IPV6_PKTINFO));
  return o;
}

}  // namespace

void InitUdpPktinfo(Napi::Env env, Napi::Object exports) {
  exports.Set("PktinfoReader", PktinfoReader::Define(env));
  exports.Set("sendFrom", Napi::Function::New(env, SendFrom, "sendFrom"));
  exports.Set("parsePktinfoControl", Napi::Function::New(env, ParseControl, "parsePktinfoControl"));
  exports.Set("pktinfoControlLayout", Napi::Function::New(env, ControlLayout, "pktinfoControlLayout"));
}

}  // namespace routebind
