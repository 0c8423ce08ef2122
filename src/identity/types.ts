/** Where a credential came from; decides whether and how it can be re-issued. */
export type CredentialSource =
  | { kind: 'identity-file'; path: string }
  | { kind: 'tls-trio'; certPath: string; keyPath: string; caPath: string }
  | {
      kind: 'tsh-profile';
      home: string;
      profile: string;
      user: string;
      proxyAddr: string;
      /** The selected cluster (the profile's, or --cluster/TELEPORT_CLUSTER): a leaf or the root. */
      cluster: string;
      /** The root cluster, which issued the certificate (its CA's name); access requests go there. */
      rootCluster?: string;
      /** `tls_routing_conn_upgrade_required`: tsh found an L7 load balancer in front of the Proxy. */
      tlsRoutingConnUpgradeRequired?: boolean;
    };

/** PEM material for mTLS, plus where it came from. Never log `keyPem`. */
export interface Credentials {
  certPem: string;
  keyPem: string;
  /** Trusted CA certificates, one PEM block each. */
  caPems: string[];
  /** The OpenSSH user certificate line, when the source carries one. */
  sshCert?: string;
  /** `@cert-authority` known_hosts lines, when the source carries them. */
  sshCaLines?: string[];
  source: CredentialSource;
}

/** The Teleport identity encoded in a TLS certificate's subject. */
export interface TeleportIdentity {
  username: string;
  roles: string[];
  traits: Record<string, string[]>;
  /** Assumed access request IDs (OID 1.3.9999.2.8). */
  activeRequests: string[];
  /** Allowed resource-ID strings (OID 1.3.9999.2.10). */
  allowedResourceIds: string[];
  routeToCluster?: string;
  teleportCluster?: string;
  impersonator?: string;
  /** Usage restrictions (OU), e.g. `usage:db`; none = unrestricted. */
  usage?: string[];
  /** The certificate may not be used to issue others (OID 1.3.9999.2.9, `"true"`). */
  disallowReissue?: boolean;
  notBefore: Date;
  expires: Date;
}

/**
 * Why this identity cannot have its certificate re-issued with a request, if it cannot
 * (auth_with_roles.go, generateUserCerts): a role-impersonated certificate carries
 * DisallowReissue and is never re-issued; any other impersonated one may not add requests.
 */
export function cannotAssumeReason(identity: {
  username: string;
  impersonator?: string;
  disallowReissue?: boolean;
}): string | undefined {
  if (identity.disallowReissue) {
    return `it holds roles ${identity.impersonator ?? identity.username} asked for by role impersonation, and Teleport never re-issues such a certificate`;
  }
  if (identity.impersonator) {
    return `it was issued for ${identity.username} by ${identity.impersonator} (as \`tctl auth sign\` does), and Teleport refuses access requests from impersonated identities`;
  }
  return undefined;
}
