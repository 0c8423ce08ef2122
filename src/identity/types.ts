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
