import { Command, Option } from 'commander';
import type { Connection } from '../../client/index.js';
import { AccessError, UsageError } from '../../model/errors.js';
import { parseLabels } from '../../model/kv.js';
import { kubeKindString } from '../../model/resource-id.js';
import { SEARCH_KINDS, type SearchKind, type SearchResult } from '../../model/search.js';
import { escapeControls } from '../../render/escape.js';
import { printTable, tableWriter } from '../../render/table.js';
import type { Context } from '../context.js';
import { callOpts, emit, note, str } from './shared.js';

export interface SearchOptions {
  /** undefined with --roles. */
  kind?: SearchKind;
  roles: boolean;
  /** With --roles: structured output lists {role, description} objects instead of names. */
  descriptions: boolean;
  keywords: string[];
  query: string;
  labels: Record<string, string>;
  kubeKind?: string;
  kubeApiGroup: string;
  kubeCluster?: string;
  /** '' searches every namespace. */
  namespace: string;
}

/** Teleport's ListResources resource types for each searchable kind. */
const RESOURCE_TYPES: Record<Exclude<SearchKind, 'kube_resource'>, string> = {
  node: 'node',
  db: 'db_server',
  app: 'app_server',
  kube_cluster: 'kube_cluster',
  windows_desktop: 'windows_desktop',
  user_group: 'user_group',
  saml_idp_service_provider: 'saml_idp_service_provider',
  aws_ic_account: 'aws_ic_account',
  aws_ic_account_assignment: 'aws_ic_account_assignment',
};

/** Kubernetes kinds of the core API group, which need no --kube-api-group. */
const CORE_KUBE_KINDS = new Set([
  'pods',
  'secrets',
  'configmaps',
  'services',
  'serviceaccounts',
  'persistentvolumeclaims',
  'persistentvolumes',
  'nodes',
  'namespaces',
  'replicationcontrollers',
  'endpoints',
  'events',
  'limitranges',
  'resourcequotas',
  'podtemplates',
]);

/** Kubernetes kinds that are not namespaced (kube:cw:). */
const CLUSTER_WIDE_KUBE_KINDS = new Set([
  'namespaces',
  'nodes',
  'persistentvolumes',
  'clusterroles',
  'clusterrolebindings',
  'certificatesigningrequests',
  'customresourcedefinitions',
  'storageclasses',
  'priorityclasses',
  'ingressclasses',
]);

const PAGE_SIZE = 500;

/**
 * The table's column between Name and Labels, where a kind's is not Hostname; null for a
 * kind with nothing to show there (user groups).
 */
const SECOND_COLUMN: Partial<
  Record<SearchKind, { title: string; value: (r: SearchResult) => string } | null>
> = {
  kube_resource: { title: 'Namespace', value: (r) => r.namespace },
  saml_idp_service_provider: { title: 'Entity ID', value: (r) => r.hostname },
  aws_ic_account: { title: 'Account ID', value: (r) => r.hostname },
  aws_ic_account_assignment: { title: 'Assignment', value: (r) => r.hostname },
  user_group: null,
};

const HOSTNAME_COLUMN = { title: 'Hostname', value: (r: SearchResult) => r.hostname };

export function define(): Command {
  return new Command('search')
    .description(
      'Search for resources you may request (search_as_roles), or list requestable roles with --roles.\n' +
        'Prints a ready-to-run `access request create` line on stderr.',
    )
    .addOption(new Option('--kind <kind>', 'kind of resource to search').choices(SEARCH_KINDS))
    .option('--roles', 'list requestable roles (with their descriptions) instead of searching for resources')
    .option(
      '--descriptions',
      'with --roles and --format json/yaml: list {role, description} objects instead of role names',
    )
    .option('--search <keywords>', 'comma-separated keywords, e.g. --search foo,bar,"some phrase"')
    .option('--query <expr>', `predicate, e.g. --query 'labels["env"] == "prod"'`)
    .option('--labels <k=v,...>', 'only resources with these labels')
    .option(
      '--kube-kind <plural>',
      'Kubernetes kind in plural form (pods, deployments, ...) for --kind kube_resource',
    )
    .option('--kube-api-group <group>', 'Kubernetes API group (required for kinds outside the core group)')
    .option('--kube-cluster <name>', 'Kubernetes cluster to search (required for --kind kube_resource)')
    .option('--namespace <ns>', 'Kubernetes namespace (default "default")')
    .option('--all-kube-namespaces', 'search every Kubernetes namespace');
}

function keywords(s: string | undefined): string[] {
  if (s === undefined) return [];
  const out: string[] = [];
  // Commas separate keywords except inside double quotes, so a phrase can contain one.
  for (const m of s.matchAll(/"([^"]*)"|([^,]+)/g)) {
    const word = (m[1] ?? m[2]).trim();
    if (word !== '') out.push(word);
  }
  return out;
}

export function parse(_args: unknown[], flags: Record<string, unknown>): SearchOptions {
  const kind = str(flags, 'kind') as SearchKind | undefined;
  const roles = flags.roles === true;
  if (kind && roles) throw new UsageError('only one of --kind and --roles may be specified');
  const descriptions = flags.descriptions === true;
  if (descriptions && !roles) throw new UsageError('--descriptions applies only to --roles');
  if (!kind && !roles) {
    throw new UsageError(
      'one of --kind and --roles is required',
      `--kind is one of ${SEARCH_KINDS.join(', ')}`,
    );
  }
  const kubeKind = str(flags, 'kubeKind');
  const kubeApiGroup = str(flags, 'kubeApiGroup') ?? '';
  const kubeCluster = str(flags, 'kubeCluster');
  const namespaceFlag = str(flags, 'namespace');
  const all = flags.allKubeNamespaces === true;
  const kubeFlags = [
    ['--kube-kind', kubeKind],
    ['--kube-api-group', str(flags, 'kubeApiGroup')],
    ['--namespace', namespaceFlag],
    ['--all-kube-namespaces', all || undefined],
  ] as const;
  if (kind !== 'kube_resource') {
    const given = kubeFlags.find(([, v]) => v !== undefined);
    if (given) throw new UsageError(`${given[0]} applies only to --kind kube_resource`);
  } else {
    if (!kubeKind) throw new UsageError('--kube-kind is required when using --kind kube_resource');
    if (!kubeCluster)
      throw new UsageError('--kube-cluster is required when searching for Kubernetes resources');
    if (kubeApiGroup === '' && !CORE_KUBE_KINDS.has(kubeKind)) {
      throw new UsageError(`--kube-api-group is required for resource kind ${JSON.stringify(kubeKind)}`);
    }
    if (all && namespaceFlag !== undefined) {
      throw new UsageError('--namespace and --all-kube-namespaces cannot be combined');
    }
  }
  const labelsText = str(flags, 'labels');
  return {
    kind,
    roles,
    descriptions,
    keywords: keywords(str(flags, 'search')),
    query: str(flags, 'query') ?? '',
    labels: labelsText === undefined ? {} : parseLabels(labelsText, 'labels'),
    kubeKind,
    kubeApiGroup,
    kubeCluster,
    namespace: all ? '' : (namespaceFlag ?? 'default'),
  };
}

const UNIMPLEMENTED = 12;

/**
 * One page of teleport.kube.v1.KubeService. Teleport serves that service on the Proxy, not
 * on the Auth Service, so an auth address may answer Unimplemented: say so plainly.
 */
async function listKubeResourcesPage(
  ctx: Context,
  conn: Connection,
  req: Parameters<Connection['kube']['listKubernetesResources']>[0],
): ReturnType<Connection['kube']['listKubernetesResources']> {
  const { isRpcError } = await import('../../client/errors.js');
  try {
    return await conn.kube.listKubernetesResources(req, callOpts(ctx));
  } catch (err) {
    if (!isRpcError(err) || err.code !== UNIMPLEMENTED) throw err;
    throw new AccessError(
      'failure',
      `${conn.address} does not serve Kubernetes resource search (teleport.kube.v1.KubeService)`,
      'Teleport serves it on the Proxy: search with `tsh request search --kind kube_resource`, or request the whole cluster (`access request search --kind kube_cluster`)',
    );
  }
}

async function searchResources(ctx: Context, opts: SearchOptions): Promise<SearchResult[]> {
  const { searchResultFromPaginated, searchResultFromKubeResource } = await import('../../client/map.js');
  // As tsh, search the selected cluster (a leaf, with --cluster/TELEPORT_CLUSTER or after
  // `tsh login leaf`) and name it in the resource IDs.
  const conn = await ctx.connectSelected();
  const cluster = await ctx.selectedCluster();
  const out: SearchResult[] = [];
  const seen = new Set<string>();
  const add = (r: SearchResult | undefined) => {
    if (!r || seen.has(r.resource_id)) return;
    seen.add(r.resource_id);
    out.push(r);
  };
  const { paginate } = await import('../../client/list.js');
  if (opts.kind === 'kube_resource') {
    const resourceType = kubeKindString({
      plural: opts.kubeKind!,
      apiGroup: opts.kubeApiGroup,
      namespaced: !CLUSTER_WIDE_KUBE_KINDS.has(opts.kubeKind!),
    });
    const pages = paginate(async (limit, startKey) => {
      const page = await listKubeResourcesPage(ctx, conn, {
        resourceType,
        limit,
        startKey,
        labels: opts.labels,
        predicateExpression: opts.query,
        searchKeywords: opts.keywords,
        useSearchAsRoles: true,
        teleportCluster: cluster,
        kubernetesCluster: opts.kubeCluster!,
        kubernetesNamespace: opts.namespace,
      });
      return { items: page.resources, nextKey: page.nextKey };
    }, PAGE_SIZE);
    for await (const page of pages) {
      for (const r of page) add(searchResultFromKubeResource(r, cluster, opts.kubeCluster!, resourceType));
    }
    return out;
  }
  const resourceType = RESOURCE_TYPES[opts.kind!];
  const pages = paginate(async (limit, startKey) => {
    const page = await conn.auth.listResources(
      {
        resourceType,
        limit,
        startKey,
        labels: opts.labels,
        predicateExpression: opts.query,
        searchKeywords: opts.keywords,
        useSearchAsRoles: true,
      },
      callOpts(ctx),
    );
    return { items: page.resources, nextKey: page.nextKey };
  }, PAGE_SIZE);
  for await (const page of pages) {
    for (const r of page) add(searchResultFromPaginated(r, cluster));
  }
  return out;
}

function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The command that requests everything found, as tsh prints it. */
function createLine(results: SearchResult[]): string {
  const resources = results.map((r) => `--resource ${r.resource_id}`).join(' ');
  return `access request create ${resources} --reason <reason>`;
}

export async function run(ctx: Context, opts: SearchOptions): Promise<number> {
  const conn = await ctx.connect();
  if (opts.roles) {
    const { listRequestableRoles } = await import('../../client/roles.js');
    const roles = await listRequestableRoles(conn, callOpts(ctx));
    await emit(ctx, opts.descriptions ? roles : roles.map((r) => r.role), async () => {
      if (roles.length === 0) {
        note(ctx, 'No requestable roles found.');
        return;
      }
      // As tsh: a Role | Description table; on a TTY the description wraps to fit.
      const table = tableWriter(ctx.io, ['Role', 'Description'], { fitColumn: 1 });
      await table.add(roles.map((r) => [r.role, r.description]));
      await table.end();
      note(
        ctx,
        '\nTo request one of these roles, run\n> access request create --roles <role> --reason <reason>',
      );
    });
    return 0;
  }
  const results = await searchResources(ctx, opts);
  await emit(ctx, results, async () => {
    const second = Object.hasOwn(SECOND_COLUMN, opts.kind!) ? SECOND_COLUMN[opts.kind!] : HOSTNAME_COLUMN;
    await printTable(
      ctx.io,
      ['Name', ...(second ? [second.title] : []), 'Labels', 'Resource ID'],
      results.map((r) => [
        r.name,
        ...(second ? [second.value(r)] : []),
        formatLabels(r.labels),
        r.resource_id,
      ]),
    );
    if (results.length === 0) {
      note(ctx, 'No matching resources found.');
      return;
    }
    note(ctx, `\nTo request access to these resources, run\n> ${escapeControls(createLine(results))}`);
  });
  return 0;
}
