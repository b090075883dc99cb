// `npm run admin -- <command>`: the operator's commands on organisations, their API keys, tracked
// accounts, partner clients and their manifests, on the configured meta store (PGlite under LOUPE_DATA_DIR, or PostgreSQL with
// LOUPE_POSTGRES_URL). Run with no command for the list. Embedded, one process at a time may open
// the data directory, so the command refuses while `npm start` runs on it.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { KEY_ROLES, type KeyRole } from '../lib/auth/caller.ts';
import { ConfigError, loadConfig } from '../lib/config.ts';
import {
  createApiKey,
  createOrganisation,
  listApiKeys,
  listOrganisations,
  listTrackedAccounts,
  revokeApiKey,
  untrackAccounts,
  upsertTrackedAccounts,
} from '../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../lib/meta/meta.port.ts';
import {
  CLIENT_MODES,
  listPartnerClients,
  listUnknownOperations,
  publishManifest,
  registerPartnerClient,
  restoreManifest,
  setPartnerClientMode,
  type ClientMode,
} from '../lib/meta/partner-clients.repo.ts';
import { readManifest } from '../lib/graphql/trusted-manifest.ts';
import { loadApiSchema } from '../schema/api-schema.ts';
import { PLATFORMS, type Platform } from '../schema/event-envelope.ts';
import { runCommand } from './run-command.ts';
import { holdEmbeddedDataDir, openMetaStore } from './stores.ts';

const USAGE = `npm run admin -- <command> [options] [--json]

  org create --name NAME [--time-zone ZONE]     a new organisation (time zone UTC unless given)
  org list
  key create --org ORG --role ROLE [--name NAME] [--client CLIENT]
                                                ROLE: ${KEY_ROLES.join(', ')} (partner needs --client);
                                                the key is printed once and never again
  key list --org ORG
  key revoke --org ORG --id KEY_ID
  account track --org ORG --platform PLATFORM --id ID [--handle H] [--display-name D]
  account untrack --org ORG --id ID [--id ID ...]
  account list --org ORG
  client register --org ORG --name CLIENT [--mode enforce|audit]
                                                a partner client (enforce unless given)
  client mode --org ORG --name CLIENT --mode enforce|audit
  client list --org ORG                         clients, their manifest versions and the one in force
  client unknown --org ORG --name CLIENT        operations an audit client ran outside its manifest
  manifest publish --org ORG --client CLIENT --file PATH
                                                Apollo's persisted query manifest format; every
                                                operation is validated against the API first
  manifest restore --org ORG --client CLIENT --version N`;

type Values = Record<string, string | boolean | string[] | undefined>;

/** A mistake in the command line: one line on stderr, exit code 2. */
const usage = (message: string) => new ConfigError(`${message}\n\n${USAGE}`);

function text(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim().length === 0) throw usage(`--${name} is required`);
  return value.trim();
}

function optional(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

async function knownOrg(meta: MetaStore, id: string): Promise<void> {
  if (!(await listOrganisations(meta)).some((o) => o.id === id)) {
    throw new ConfigError(`no organisation ${id} (npm run admin -- org list)`);
  }
}

/** Runs one command; what it returns is printed (as JSON with --json). */
async function run(meta: MetaStore, command: string, values: Values): Promise<unknown> {
  switch (command) {
    case 'org create': {
      const timeZone = optional(values, 'time-zone') ?? 'UTC';
      const id = await createOrganisation(meta, text(values, 'name'), timeZone);
      return { id, name: text(values, 'name'), timeZone };
    }
    case 'org list':
      return listOrganisations(meta);
    case 'key create': {
      const org = text(values, 'org');
      const role = text(values, 'role') as KeyRole;
      if (!KEY_ROLES.includes(role)) throw usage(`--role must be one of ${KEY_ROLES.join(', ')}`);
      await knownOrg(meta, org);
      const client = optional(values, 'client');
      if (client !== undefined && (await listPartnerClients(meta, org, [client])).length === 0) {
        throw new ConfigError(
          `organisation ${org} has no partner client ${client}; register it first (client register)`,
        );
      }
      const name = optional(values, 'name') ?? role;
      const key = await createApiKey(meta, org, name, undefined, {
        role,
        ...(client !== undefined && { client }),
      });
      const created = (await listApiKeys(meta, org)).find((k) => key.startsWith(k.prefix));
      return { key, id: created?.id, org, role, name, client: client ?? null };
    }
    case 'key list': {
      const org = text(values, 'org');
      await knownOrg(meta, org);
      return listApiKeys(meta, org);
    }
    case 'key revoke': {
      const org = text(values, 'org');
      const id = text(values, 'id');
      if (!(await revokeApiKey(meta, org, id))) {
        throw new ConfigError(
          `organisation ${org} has no live key ${id} (npm run admin -- key list)`,
        );
      }
      return { revoked: id };
    }
    case 'account track': {
      const org = text(values, 'org');
      const platform = text(values, 'platform').toLowerCase() as Platform;
      if (!PLATFORMS.includes(platform)) {
        throw usage(`--platform must be one of ${PLATFORMS.join(', ')}`);
      }
      await knownOrg(meta, org);
      const id = text(values, 'id');
      const handle = optional(values, 'handle');
      const displayName = optional(values, 'display-name');
      await upsertTrackedAccounts(meta, org, [
        { id, platform, ...(handle && { handle }), ...(displayName && { displayName }) },
      ]);
      return { tracked: id, platform };
    }
    case 'account untrack': {
      const org = text(values, 'org');
      const ids = Array.isArray(values['id']) ? values['id'] : [];
      if (ids.length === 0) throw usage('--id is required');
      const removed = await untrackAccounts(meta, org, ids);
      const unknown = ids.filter((id) => !removed.includes(id));
      if (unknown.length > 0) {
        throw new ConfigError(
          `organisation ${org} does not track ${unknown.join(', ')}${removed.length > 0 ? `; untracked ${removed.join(', ')}` : ''}`,
        );
      }
      return { untracked: removed };
    }
    case 'account list': {
      const org = text(values, 'org');
      await knownOrg(meta, org);
      return listTrackedAccounts(meta, org);
    }
    case 'client register': {
      const org = text(values, 'org');
      await knownOrg(meta, org);
      const name = text(values, 'name');
      const mode = clientMode(optional(values, 'mode') ?? 'enforce');
      if (!(await registerPartnerClient(meta, org, name, mode))) {
        throw new ConfigError(`organisation ${org} already has a partner client ${name}`);
      }
      return { registered: name, mode };
    }
    case 'client mode': {
      const org = text(values, 'org');
      const name = text(values, 'name');
      const mode = clientMode(text(values, 'mode'));
      if (!(await setPartnerClientMode(meta, org, name, mode))) throw noClient(org, name);
      return { client: name, mode };
    }
    case 'client list': {
      const org = text(values, 'org');
      await knownOrg(meta, org);
      return listPartnerClients(meta, org);
    }
    case 'client unknown': {
      const org = text(values, 'org');
      const name = text(values, 'name');
      if ((await listPartnerClients(meta, org, [name])).length === 0) throw noClient(org, name);
      return listUnknownOperations(meta, org, name);
    }
    case 'manifest publish': {
      const org = text(values, 'org');
      const client = text(values, 'client');
      const path = text(values, 'file');
      let body: string;
      try {
        body = await readFile(path, 'utf8');
      } catch (error) {
        throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
      }
      const read = readManifest(body, await loadApiSchema());
      if (!read.ok) {
        throw new ConfigError(`the manifest was not published:\n  ${read.errors.join('\n  ')}`);
      }
      const version = await publishManifest(meta, org, client, read.operations);
      if (version === null) throw noClient(org, client);
      return { client, version, operations: read.operations.length };
    }
    case 'manifest restore': {
      const org = text(values, 'org');
      const client = text(values, 'client');
      const version = Number(text(values, 'version'));
      if (!Number.isInteger(version) || version < 1) throw usage('--version must be 1 or more');
      if (!(await restoreManifest(meta, org, client, version))) {
        throw new ConfigError(
          `partner client ${client} of ${org} has no manifest version ${version}`,
        );
      }
      return { client, activeVersion: version };
    }
    default:
      throw usage(command.trim() ? `unknown command: ${command}` : 'no command given');
  }
}

function clientMode(value: string): ClientMode {
  if (!CLIENT_MODES.includes(value as ClientMode)) {
    throw usage(`--mode must be one of ${CLIENT_MODES.join(', ')}`);
  }
  return value as ClientMode;
}

function noClient(org: string, name: string): ConfigError {
  return new ConfigError(`organisation ${org} has no partner client ${name} (client list)`);
}

function print(result: unknown, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  if (Array.isArray(result)) {
    if (result.length === 0) console.log('(none)');
    for (const row of result) console.log(JSON.stringify(row));
    return;
  }
  const { key, ...rest } = result as { key?: string };
  if (key !== undefined) {
    console.log(`API key (shown once, keep it now): ${key}`);
    console.log(JSON.stringify(rest));
    return;
  }
  console.log(JSON.stringify(result));
}

runCommand(async () => {
  const { values, positionals } = parseArgs({
    options: {
      name: { type: 'string' },
      'time-zone': { type: 'string' },
      org: { type: 'string' },
      role: { type: 'string' },
      client: { type: 'string' },
      id: { type: 'string', multiple: true },
      platform: { type: 'string' },
      handle: { type: 'string' },
      'display-name': { type: 'string' },
      mode: { type: 'string' },
      file: { type: 'string' },
      version: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const command = positionals.join(' ');
  // Single-valued options given once: `--id` is a list only where a list makes sense.
  const flat: Values = {
    ...values,
    id: command === 'account untrack' ? values.id : values.id?.at(-1),
  };
  const config = loadConfig();
  const release = await holdEmbeddedDataDir(config);
  try {
    const meta = await openMetaStore(config);
    try {
      print(await run(meta, command, flat), values.json === true);
    } catch (error) {
      // A refused value (a bad time zone, an unknown role) is the caller's mistake, said in a line.
      if (error instanceof RangeError) throw new ConfigError(error.message);
      throw error;
    } finally {
      await meta.close();
    }
  } finally {
    await release();
  }
});
