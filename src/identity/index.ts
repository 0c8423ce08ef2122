export {
  certificateExpiry,
  certificateSpki,
  parseIdentity,
  parseIdentityDer,
  SUBJECT_OIDS,
} from './certificate.js';
export { type FileToWrite, writeFileAtomic, writeFilesExclusive } from './files.js';
export {
  formatIdentityFile,
  type IdentityFileContents,
  parseIdentityFile,
  readIdentityFile,
  writeIdentityFileCredentials,
} from './identity-file.js';
export { type GeneratedKey, generateKey, type KeyAlgorithm, publicKeyPemFromPrivate } from './keys.js';
export { readTshProfile, type TshProfileSource, writeTshProfileCertificate } from './profile.js';
export { saveReissuedCertificate } from './reissue.js';
export {
  createSshUserCertificate,
  DEFAULT_SSH_EXTENSIONS,
  isSshCertificateLine,
  parseSshCertificate,
  publicKeyFromSshLine,
  type SshCertificate,
  type SshUserCertificateOptions,
  sshCaKnownHostsLine,
  sshPublicKeyFromPem,
} from './ssh.js';
export { readTlsTrio } from './trio.js';
export type { CredentialSource, Credentials, TeleportIdentity } from './types.js';
export {
  type CertificateAuthority,
  type CreateCaOptions,
  createCertificateAuthority,
  type IdentityFields,
  type IssueCertificateOptions,
  issueCertificate,
  verifyCertificate,
} from './x509.js';
