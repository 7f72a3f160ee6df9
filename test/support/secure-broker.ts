import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as localKafka from '../../scripts/kafka/local-kafka';

export interface SecureBroker {
  /** PLAINTEXT listener: the test's own super-user (ANONYMOUS) admin. */
  plaintext: string;
  /** SASL_SSL listener, for the service. */
  saslSsl: string;
  caFile: string;
  name: string;
}

export const USERS = { writer: 'writer-secret', reader: 'reader-secret' } as const;

/**
 * A throwaway CA and a server certificate for 127.0.0.1, made with openssl in `dir` (ca.pem, server.crt,
 * server.key; `keystore` is the key and certificate in one PEM, as Kafka reads them).
 */
export function certificates(dir: string): { caFile: string; keystore: string } {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=e2e-test-ca',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  run('pkcs8', '-topk8', '-nocrypt', '-in', 'server.key', '-out', 'server.p8');
  const keystore = join(dir, 'server.pem');
  writeFileSync(
    keystore,
    readFileSync(join(dir, 'server.p8'), 'utf8') + readFileSync(join(dir, 'server.crt'), 'utf8'),
  );
  return { caFile: join(dir, 'ca.pem'), keystore };
}

/**
 * A broker with a SASL_SSL listener (TLS with a test CA; SCRAM-SHA-512/256 users created at format time;
 * PLAIN too) and the standard authorizer: no ACL, no access, except for the PLAINTEXT super-user.
 */
export async function startSecureBroker(name: string): Promise<SecureBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-tls-'));
  const { caFile, keystore } = certificates(dir);
  const saslPort = await localKafka.freePort();
  const scram = (mechanism: string) =>
    Object.entries(USERS).flatMap(([user, password]) => [
      '--add-scram',
      `${mechanism}=[name=${user},password=${password}]`,
    ]);
  const jaasPlain = Object.entries(USERS)
    .map(([user, password]) => `user_${user}="${password}"`)
    .join(' ');
  const broker = await localKafka.start({
    name,
    quiet: true,
    formatArgs: [...scram('SCRAM-SHA-512'), ...scram('SCRAM-SHA-256')],
    extra: {
      listeners: `SASL_SSL://127.0.0.1:${saslPort}`,
      advertised: `SASL_SSL://127.0.0.1:${saslPort}`,
      protocolMap: 'SASL_SSL:SASL_SSL',
      properties: [
        'sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN',
        'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${jaasPlain};`,
        'ssl.keystore.type=PEM',
        `ssl.keystore.location=${keystore}`,
        'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users=User:ANONYMOUS',
        'allow.everyone.if.no.acl.found=false',
      ].join('\n'),
    },
  });
  return { plaintext: broker.bootstrap, saslSsl: `127.0.0.1:${saslPort}`, caFile, name };
}
