/**
 * `access sign-helper` issuing: a key made here, a certificate for the plugin's user from
 * the Auth Service, checked, then written with the CAs that trust the cluster.
 */
import { AccessError } from '../../model/errors.js';
import { isBareAccessDenied } from '../../model/server-messages.js';
import { toIsoOrNull } from '../../model/time.js';
import type { Context } from '../context.js';
import { callOpts } from './shared.js';
import type { SignHelperOptions } from './sign-helper.js';
import { checkIssuedCertificate, checkIssuedTtl, lifetime, preflight, verify } from './sign-helper-checks.js';
import { reportWritten, sshCaLines, targetsFor, writeCredentials } from './sign-helper-output.js';

export async function sign(
  ctx: Context,
  opts: SignHelperOptions & { out: string; user: string },
): Promise<number> {
  const targets = targetsFor(opts.out, opts.outFormat);
  await preflight(targets, opts.overwrite);

  const { certificateExpiry, generateKey, sshPublicKeyFromPem } = await import('../../identity/index.js');
  const certs = await import('../../client/certs.js');
  const { serverInfo } = await import('../../client/probes.js');
  const conn = await ctx.connect();
  const server = await serverInfo(conn, callOpts(ctx));
  const key = await generateKey(server.userKeyAlgorithm);
  const now = ctx.now();
  const requested = new Date(now.getTime() + opts.ttlMs);
  const issued = await certs
    .issueUserCertificates(
      conn,
      {
        user: opts.user,
        expires: requested,
        tlsPublicKeyPem: key.publicKeyPem,
        ...(targets.kind === 'file' ? { sshPublicKey: sshPublicKeyFromPem(key.publicKeyPem) } : {}),
      },
      callOpts(ctx),
    )
    .catch(async (err: unknown) => {
      const { isRpcError } = await import('../../client/errors.js');
      if (isRpcError(err) && isBareAccessDenied(err.code, err.details)) {
        // Teleport says no more than "access denied" for a user it will not name, so both
        // possibilities are said.
        throw new AccessError(
          'permission',
          `access denied issuing credentials for ${JSON.stringify(opts.user)}`,
          `Teleport does not say which: the user ${JSON.stringify(opts.user)} may not exist, or you may not ` +
            'impersonate them (your roles need `impersonate: users` naming them); check with `tctl get users`',
        );
      }
      throw err;
    });

  await checkIssuedCertificate(key.privateKeyPem, issued.certPem, opts.user);
  const expires = certificateExpiry(issued.certPem);
  checkIssuedTtl({ user: opts.user, ttlText: opts.ttlText, requested, issued: expires, now });

  await writeCredentials(
    ctx,
    targets,
    {
      keyPem: key.privateKeyPem,
      certPem: issued.certPem,
      sshCert: issued.sshCert,
      sshCaLines: sshCaLines(issued.sshCaKeys, server.clusterName),
      caPems: await certs.trustedCas(conn, issued.tlsCaPems, callOpts(ctx)),
    },
    opts.overwrite,
  );
  await reportWritten(ctx, targets, {
    user: opts.user,
    expires: toIsoOrNull(expires) ?? '',
    validFor: lifetime(expires.getTime() - now.getTime()),
    address: conn.address,
  });

  if (opts.verify) await verify(ctx, conn, targets);
  return 0;
}
