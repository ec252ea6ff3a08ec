#pragma once

#include <string_view>

#include "core/error.hpp"
#include "http/exchange.hpp"
#include "identity/key_cache.hpp"
#include "identity/principal.hpp"

namespace sluice::api {

/// Who may call without a key sluice issued.
enum class AnonymousAccess {
  kOff,       // every caller needs a key sluice knows
  kLoopback,  // callers on this machine may call without one (the embedded default)
  kAlways,    // anyone may (for a gateway behind another authenticating proxy)
};

/// Parses the config's `auth.anonymous` value; unknown text reads as kOff.
AnonymousAccess ParseAnonymousAccess(std::string_view mode);

/// The identity stage: turns a request's credentials into the principal it is served as.
///
/// A SigV4-signed request (Authorization: AWS4-HMAC-SHA256) is verified against the secret of
/// the access key it names, over HTTP/1.1 (`host`) and HTTP/2 (`:authority`) alike; a bearer key
/// (Authorization: Bearer) is looked up by its hash. A known key with a wrong signature, an
/// expired date or a tampered body is refused in every mode. An unknown or revoked key, or no
/// credentials at all, is served as the anonymous principal only when anonymous access allows
/// it for this caller; otherwise it gets AWS's own errors (UnrecognizedClientException,
/// InvalidSignatureException, 403).
///
/// Thread-safe. The key cache (which may be null: no keys at all) must outlive it.
class Authenticator final {
 public:
  Authenticator(identity::KeyCache* keys, AnonymousAccess anonymous);

  core::Result<identity::Principal> Authenticate(const http::Exchange& exchange) const;

  /// Whether admin routes may be used by `principal` on this connection: admin keys, and in
  /// loopback mode any caller on this machine.
  bool MayAdminister(const identity::Principal& principal,
                     const http::ConnectionInfo& connection) const;

  /// The principal unauthenticated callers are served as.
  static const identity::Principal& Anonymous();

 private:
  bool AllowsAnonymous(const http::ConnectionInfo& connection) const;
  core::Result<identity::Principal> VerifySigV4(const http::Exchange& exchange) const;

  identity::KeyCache* keys_;
  AnonymousAccess anonymous_;
};

}  // namespace sluice::api
