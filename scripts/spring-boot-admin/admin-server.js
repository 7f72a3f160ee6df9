#!/usr/bin/env node
/*
 * A Spring Boot Admin server for the end-to-end test that registers the service with it: the jars of
 * spring-boot-admin-starter-server from Maven Central (pom.xml) and the one-class app in src/, compiled
 * with javac. Fetched and built once, then reused:
 *
 *   .cache/spring-boot-admin/<version>-<hash>/lib      the runtime classpath (mvn dependency:copy-dependencies)
 *   .cache/spring-boot-admin/<version>-<hash>/classes  AdminServer.class
 *
 * <hash> covers pom.xml and the Java source, so editing either builds afresh. `node admin-server.js fetch`
 * (CI runs it) does the work; ensureBuilt() from the test does the same and is a no-op when cached.
 * Plain CommonJS, like scripts/kafka/local-kafka.js.
 */
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { buildOnce, copyDependencies, run } = require('../maven-cache');

const ROOT = path.resolve(__dirname, '..', '..');
const POM = path.join(__dirname, 'pom.xml');
const SOURCE = path.join(__dirname, 'src', 'local', 'sba', 'AdminServer.java');
const MAIN_CLASS = 'local.sba.AdminServer';

function adminVersion() {
  const match = /<spring-boot-admin\.version>([^<]+)<\/spring-boot-admin\.version>/.exec(
    fs.readFileSync(POM, 'utf8'),
  );
  if (!match) {
    throw new Error(`no <spring-boot-admin.version> in ${POM}`);
  }
  return match[1];
}

function buildDir() {
  const hash = crypto.createHash('sha256');
  for (const file of [POM, SOURCE]) {
    hash.update(fs.readFileSync(file));
  }
  return path.join(
    ROOT,
    '.cache',
    'spring-boot-admin',
    `${adminVersion()}-${hash.digest('hex').slice(0, 8)}`,
  );
}

/**
 * Fetches the jars and compiles the app unless a complete build is cached; returns the java arguments that
 * run it (classpath and main class). Throws, with the failing step, when Maven or javac fails.
 */
function ensureBuilt({ quiet = false } = {}) {
  const dir = buildDir();
  buildOnce(dir, (staging) => {
    if (!quiet) {
      process.stderr.write(`Fetching Spring Boot Admin ${adminVersion()} from Maven Central into ${dir}\n`);
    }
    copyDependencies(POM, path.join(staging, 'lib'), 'mvn (fetching the Spring Boot Admin jars)');
    run(
      'javac',
      [
        '-proc:none',
        '-nowarn',
        '-cp',
        path.join(staging, 'lib', '*'),
        '-d',
        path.join(staging, 'classes'),
        SOURCE,
      ],
      'javac (compiling the Spring Boot Admin server)',
    );
  });
  return {
    classpath: `${path.join(dir, 'classes')}${path.delimiter}${path.join(dir, 'lib', '*')}`,
    mainClass: MAIN_CLASS,
  };
}

module.exports = { ensureBuilt, adminVersion };

if (require.main === module) {
  try {
    const command = process.argv[2];
    if (command !== 'fetch') {
      console.error('usage: admin-server.js fetch');
      process.exitCode = 2;
    } else {
      const { classpath } = ensureBuilt();
      console.log(`Spring Boot Admin ${adminVersion()} ready: ${classpath}`);
    }
  } catch (error) {
    console.error(error.message);
    process.exitCode = 1;
  }
}
