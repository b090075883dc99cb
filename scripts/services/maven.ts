// Servers that ship as Maven Central artifacts (Kafka, Elasticsearch) are fetched with `mvn`,
// the one route to them this machine has. Maven's own repository (~/.m2) caches the downloads;
// a `.complete` stamp in the target folder makes a second `up` skip Maven entirely.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { has, run } from './service.ts';

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
  /** e.g. 'zip'; default 'jar'. */
  type?: string;
}

const coordinates = (a: MavenArtifact) => `${a.groupId}:${a.artifactId}:${a.version}`;

function requireMaven(): void {
  if (!has('mvn')) {
    throw new Error(
      'Apache Maven (mvn) is needed to fetch Kafka and Elasticsearch: apt-get install maven',
    );
  }
}

function stamped(dir: string): boolean {
  return existsSync(join(dir, '.complete')) && readdirSync(dir).length > 1;
}

/** Copies `artifacts` and all their runtime dependencies into `dir` (a classpath folder). */
export function resolveClasspath(
  label: string,
  artifacts: readonly MavenArtifact[],
  dir: string,
): void {
  if (stamped(dir)) return;
  requireMaven();
  mkdirSync(dir, { recursive: true });
  const dependencies = artifacts
    .map(
      (a) =>
        `<dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId>` +
        `<version>${a.version}</version></dependency>`,
    )
    .join('\n    ');
  const pom = join(dir, '..', `${label}-pom.xml`);
  writeFileSync(
    pom,
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>loupe.services</groupId>
  <artifactId>${label}</artifactId>
  <version>1</version>
  <dependencies>
    ${dependencies}
  </dependencies>
</project>
`,
  );
  console.log(`${label}: fetching ${artifacts.map(coordinates).join(', ')} with Maven …`);
  run('mvn', [
    '-B',
    '-f',
    pom,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${dir}`,
  ]);
  writeFileSync(join(dir, '.complete'), new Date().toISOString());
  console.log(`${label}: ${readdirSync(dir).length - 1} jars in ${dir}`);
}

/** Copies one artifact (e.g. a distribution zip) into `dir` and returns its path. */
export function fetchArtifact(label: string, artifact: MavenArtifact, dir: string): string {
  const type = artifact.type ?? 'jar';
  const file = join(dir, `${artifact.artifactId}-${artifact.version}.${type}`);
  if (existsSync(file)) return file;
  requireMaven();
  mkdirSync(dir, { recursive: true });
  console.log(`${label}: fetching ${coordinates(artifact)}:${type} with Maven …`);
  run('mvn', [
    '-B',
    'dependency:copy',
    `-Dartifact=${coordinates(artifact)}:${type}`,
    `-DoutputDirectory=${dir}`,
    // Maven's transfer log is the progress report for a download of several hundred MB.
    '-Dorg.slf4j.simpleLogger.log.org.apache.maven.cli.transfer.Slf4jMavenTransferListener=info',
  ]);
  return file;
}
