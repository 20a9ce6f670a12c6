import { Reason, unauthenticated } from "../core/errors.js";
import type { ApiKeys } from "./api-keys.js";
import type { Credentials } from "./credentials.js";
import type { JwtVerifier } from "./jwt.js";
import type { Principal } from "./principal.js";

export interface AuthenticatorOptions {
  apiKeys?: ApiKeys;
  jwt?: JwtVerifier;
}

const BEARER = /^bearer +(\S+) *$/i;

/**
 * Credentials → principal, the same for every transport. Every credential presented must be valid; the
 * principal is the token's, else the API key's, else the client certificate's. A call with none is
 * UNAUTHENTICATED CREDENTIALS_MISSING.
 */
export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  /**
   * The caller's principal: at once for keys, certificates and tokens verified before, a promise for a token
   * seen first. Throws (or rejects with) UNAUTHENTICATED, or UNAVAILABLE if the JWKS cannot be fetched.
   */
  authenticate(credentials: Credentials): Principal | Promise<Principal> {
    const { apiKey, authorization, certificate } = credentials;
    const keyPrincipal = apiKey === undefined ? undefined : this.keyPrincipal(apiKey);
    if (authorization !== undefined) return this.tokenPrincipal(authorization);
    if (keyPrincipal) return keyPrincipal;
    if (certificate) return { id: `certificate:${certificate.commonName}`, via: "certificate", scopes: undefined };
    throw unauthenticated(Reason.CREDENTIALS_MISSING);
  }

  private keyPrincipal(apiKey: string): Principal {
    if (!this.options.apiKeys) throw unauthenticated(Reason.API_KEY_INVALID);
    return this.options.apiKeys.principalOf(apiKey);
  }

  private tokenPrincipal(authorization: string): Principal | Promise<Principal> {
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined || !this.options.jwt) throw unauthenticated(Reason.ACCESS_TOKEN_INVALID);
    return this.options.jwt.verify(token);
  }
}
