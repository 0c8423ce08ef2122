/**
 * Our .proto subset against the descriptors compiled into Teleport's official Go API
 * module: every message, field, enum value and RPC we declare must exist there with the
 * same number, wire type, label and message/enum type. Names may differ in spelling only
 * (snake_case here, Go's CamelCase there); the wire does not carry them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runGo } from './helpers.js';

/**
 * What Teleport added after the pinned api module, each with where its numbers come from:
 * - Access Monitoring Rule fields (v18, RFD 0201): api/proto/teleport/accessmonitoringrules/v1/
 *   access_monitoring_rules.proto on master.
 * - The dry-run enrichment (AccessRequestSpecV3.dry_run_enrichment = 23): Teleport's generated
 *   gen/proto/ts/teleport/legacy/types/types_pb.ts.
 * - ListRequestableRoles: api/proto/teleport/legacy/client/proto/requestable_roles.proto.
 */
const NEWER_THAN_PINNED = new Set([
  '.types.AccessRequestSpecV3.dry_run_enrichment = 23',
  '.types.AccessRequestDryRunEnrichment',
  '.proto.ListRequestableRolesRequest',
  '.proto.ListRequestableRolesRequest.Filter',
  '.proto.ListRequestableRolesResponse',
  '.proto.ListRequestableRolesResponse.RequestableRole',
  '.proto.AuthService/ListRequestableRoles',
  '.teleport.accessmonitoringrules.v1.AutomaticReview',
  '.teleport.accessmonitoringrules.v1.AccessMonitoringRuleSpec.automatic_review = 6',
  '.teleport.accessmonitoringrules.v1.AccessMonitoringRuleSpec.desired_state = 7',
  '.teleport.accessmonitoringrules.v1.ListAccessMonitoringRulesWithFilterRequest.automatic_review_name = 6',
  '.teleport.accessmonitoringrules.v1.AccessMonitoringRuleSpec.schedules = 8',
  '.teleport.accessmonitoringrules.v1.AccessMonitoringRuleSpec.SchedulesEntry',
  '.teleport.accessmonitoringrules.v1.Schedule',
  '.teleport.accessmonitoringrules.v1.TimeSchedule',
  '.teleport.accessmonitoringrules.v1.TimeSchedule.Shift',
]);

interface FieldDesc {
  name: string;
  number: number;
  label?: string;
  type?: string;
  typeName?: string;
  oneofIndex?: number;
}
interface MessageDesc {
  name: string;
  field?: FieldDesc[];
  nestedType?: MessageDesc[];
  enumType?: EnumDesc[];
  oneofDecl?: { name: string }[];
  options?: { mapEntry?: boolean };
}
interface EnumDesc {
  name: string;
  value: { name: string; number: number }[];
}
interface MethodDesc {
  name: string;
  inputType: string;
  outputType: string;
  clientStreaming?: boolean;
  serverStreaming?: boolean;
}
interface FileDesc {
  name: string;
  package?: string;
  messageType?: MessageDesc[];
  enumType?: EnumDesc[];
  service?: { name: string; method: MethodDesc[] }[];
}

interface Index {
  messages: Map<string, MessageDesc>;
  enums: Map<string, EnumDesc>;
  services: Map<string, Map<string, MethodDesc>>;
}

function index(set: { file: FileDesc[] }): Index {
  const idx: Index = { messages: new Map(), enums: new Map(), services: new Map() };
  const walk = (prefix: string, m: MessageDesc) => {
    const name = `${prefix}.${m.name}`;
    idx.messages.set(name, m);
    for (const n of m.nestedType ?? []) walk(name, n);
    for (const e of m.enumType ?? []) idx.enums.set(`${name}.${e.name}`, e);
  };
  for (const f of set.file) {
    const pkg = f.package ? `.${f.package}` : '';
    for (const m of f.messageType ?? []) walk(pkg, m);
    for (const e of f.enumType ?? []) idx.enums.set(`${pkg}.${e.name}`, e);
    for (const s of f.service ?? [])
      idx.services.set(`${pkg}.${s.name}`, new Map(s.method.map((m) => [m.name, m])));
  }
  return idx;
}

const squash = (s: string) => s.replace(/_/g, '').toLowerCase();
const ours = (name: string) => !name.startsWith('.google.');

describe('our .proto subset matches Teleport Go API descriptors', () => {
  let mine: Index;
  let teleport: Index;

  beforeAll(async () => {
    const buf = await promisify(execFile)(
      join(ROOT, 'node_modules', '.bin', 'buf'),
      ['build', 'proto', '-o', '-#format=json'],
      {
        cwd: ROOT,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    mine = index(JSON.parse(buf.stdout));
    const go = await runGo('schema-dump', []);
    expect(go.code, go.stderr).toBe(0);
    teleport = index(JSON.parse(go.stdout));
  });

  it('compares a meaningful amount', () => {
    const fields = [...mine.messages].filter(([n]) => ours(n)).flatMap(([, m]) => m.field ?? []);
    expect(fields.length).toBeGreaterThan(250);
    expect(teleport.messages.has('.types.AccessRequestSpecV3')).toBe(true);
    expect(teleport.services.get('.proto.AuthService')?.size).toBeGreaterThan(100);
  });

  it('every field: same number, type, label, message/enum type and oneof membership', () => {
    const problems: string[] = [];
    for (const [name, m] of mine.messages) {
      if (!ours(name)) continue;
      const theirs = teleport.messages.get(name);
      if (NEWER_THAN_PINNED.has(name)) continue;
      if (!theirs) {
        problems.push(`${name}: no such message in Teleport`);
        continue;
      }
      const byNumber = new Map((theirs.field ?? []).map((f) => [f.number, f]));
      for (const f of m.field ?? []) {
        const t = byNumber.get(f.number);
        const where = `${name}.${f.name} = ${f.number}`;
        if (!t && NEWER_THAN_PINNED.has(where)) continue;
        if (!t) {
          problems.push(`${where}: Teleport has no field ${f.number}`);
          continue;
        }
        if (squash(t.name) !== squash(f.name)) problems.push(`${where}: Teleport calls it ${t.name}`);
        if ((t.type ?? '') !== (f.type ?? '')) problems.push(`${where}: type ${f.type}, Teleport ${t.type}`);
        if ((t.label ?? '') !== (f.label ?? ''))
          problems.push(`${where}: label ${f.label}, Teleport ${t.label}`);
        if ((t.typeName ?? '') !== (f.typeName ?? '')) {
          problems.push(`${where}: type ${f.typeName}, Teleport ${t.typeName}`);
        }
        const inOneof = (x: FieldDesc, md: MessageDesc) =>
          x.oneofIndex === undefined ? '' : (md.oneofDecl?.[x.oneofIndex]?.name ?? '?');
        if (squash(inOneof(f, m)) !== squash(inOneof(t, theirs))) {
          problems.push(`${where}: oneof "${inOneof(f, m)}", Teleport "${inOneof(t, theirs)}"`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every enum value: same number and name', () => {
    const problems: string[] = [];
    for (const [name, e] of mine.enums) {
      if (!ours(name)) continue;
      const theirs = teleport.enums.get(name);
      if (!theirs) {
        problems.push(`${name}: no such enum in Teleport`);
        continue;
      }
      const byNumber = new Map(theirs.value.map((v) => [v.number, v.name]));
      for (const v of e.value) {
        if (byNumber.get(v.number) !== v.name) {
          problems.push(
            `${name}.${v.name} = ${v.number}: Teleport has ${byNumber.get(v.number) ?? 'nothing'}`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every RPC: same path, request and response types, streaming', () => {
    const problems: string[] = [];
    let count = 0;
    for (const [svc, methods] of mine.services) {
      const theirs = teleport.services.get(svc);
      if (!theirs) {
        problems.push(`${svc}: no such service in Teleport`);
        continue;
      }
      for (const [name, m] of methods) {
        count++;
        const t = theirs.get(name);
        if (!t && NEWER_THAN_PINNED.has(`${svc}/${name}`)) continue;
        if (!t) {
          problems.push(`${svc}/${name}: no such method in Teleport`);
          continue;
        }
        for (const k of ['inputType', 'outputType', 'clientStreaming', 'serverStreaming'] as const) {
          if ((m[k] ?? false) !== (t[k] ?? false))
            problems.push(`${svc}/${name}: ${k} ${m[k]}, Teleport ${t[k]}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThanOrEqual(17);
  });
});
