import { Command, Option } from '@commander-js/extra-typings';
import { UsageError } from '../../model/errors.js';
import { parseLabels } from '../../model/kv.js';
import { kubeKindString } from '../../model/resource-id.js';
import { SEARCH_KINDS, type SearchKind, type SearchResult } from '../../model/search.js';
import { escapeControls } from '../../render/escape.js';
import { printTable } from '../../render/table.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, emit, note, oneValue } from './shared.js';

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

export function define() {
  return (
    new Command('search')
      .description(
        'Search for resources you may request (search_as_roles), or list requestable roles with --roles.\n' +
          'Prints a ready-to-run `access request create` line on stderr.',
      )
      .addOption(new Option('--kind <kind>', 'kind of resource to search').choices(SEARCH_KINDS))
      .option(
        '--roles',
        'list requestable roles (with their descriptions) instead of searching for resources',
      )
      .option(
        '--descriptions',
        'with --roles and --format json/yaml: list {role, description} objects instead of role names',
      )
      .option('--search <keywords>', 'comma-separated keywords, e.g. --search foo,bar,"some phrase"')
      .option('--query <expr>', `predicate, e.g. --query 'labels["env"] == "prod"'`)
      .option('--labels <k=v,...>', 'only resources with these labels', oneValue)
      .option(
        '--kube-kind <plural>',
        'Kubernetes kind in plural form (pods, deployments, ...) for --kind kube_resource',
      )
      .option('--kube-api-group <group>', 'Kubernetes API group (required for kinds outside the core group)')
      .option('--kube-cluster <name>', 'Kubernetes cluster to search (required for --kind kube_resource)')
      .option('--namespace <ns>', 'Kubernetes namespace (default "default")')
      // tsh's older name for --namespace, still accepted (hidden) by tsh request search.
      .addOption(new Option('--kube-namespace <ns>').hideHelp())
      .option('--all-kube-namespaces', 'search every Kubernetes namespace')
  );
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

export function parse(_args: [], flags: FlagsOf<typeof define>): SearchOptions {
  const kind = flags.kind;
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
  const kubeKind = flags.kubeKind;
  const kubeApiGroup = flags.kubeApiGroup ?? '';
  const kubeCluster = flags.kubeCluster;
  if (
    flags.namespace !== undefined &&
    flags.kubeNamespace !== undefined &&
    flags.namespace !== flags.kubeNamespace
  ) {
    throw new UsageError('--namespace and --kube-namespace (its tsh name) name different namespaces');
  }
  const namespaceFlag = flags.namespace ?? flags.kubeNamespace;
  const all = flags.allKubeNamespaces === true;
  const kubeFlags = [
    ['--kube-kind', kubeKind],
    ['--kube-api-group', flags.kubeApiGroup],
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
  const labelsText = flags.labels;
  return {
    kind,
    roles,
    descriptions,
    keywords: keywords(flags.search),
    query: flags.query ?? '',
    labels: labelsText === undefined ? {} : parseLabels(labelsText, 'labels'),
    kubeKind,
    kubeApiGroup,
    kubeCluster,
    namespace: all ? '' : (namespaceFlag ?? 'default'),
  };
}

async function searchResources(ctx: Context, opts: SearchOptions): Promise<SearchResult[]> {
  const client = await import('../../client/resources.js');
  // As tsh, search the selected cluster (a leaf, with --cluster/TELEPORT_CLUSTER or after
  // `tsh login leaf`) and name it in the resource IDs.
  const conn = await ctx.connectSelected();
  const cluster = await ctx.selectedCluster();
  const filter = { keywords: opts.keywords, query: opts.query, labels: opts.labels };
  if (opts.kind === 'kube_resource') {
    const kind = kubeKindString({
      plural: opts.kubeKind!,
      apiGroup: opts.kubeApiGroup,
      namespaced: !CLUSTER_WIDE_KUBE_KINDS.has(opts.kubeKind!),
    });
    const search = { ...filter, kind, kubeCluster: opts.kubeCluster!, namespace: opts.namespace };
    return client.searchKubeResources(conn, cluster, search, callOpts(ctx));
  }
  return client.searchResources(conn, cluster, opts.kind!, filter, callOpts(ctx));
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
      await printTable(
        ctx.io,
        ['Role', 'Description'],
        roles.map((r) => [r.role, r.description]),
        { wrap: 1 },
      );
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
    const headers = ['Name', ...(second ? [second.title] : []), 'Labels', 'Resource ID'];
    const labels = headers.indexOf('Labels');
    // On a narrow terminal the resource ID (what `create` takes) and the name stay first;
    // labels are a list, one a line.
    await printTable(
      ctx.io,
      headers,
      results.map((r) => [
        r.name,
        ...(second ? [second.value(r)] : []),
        formatLabels(r.labels),
        r.resource_id,
      ]),
      { priority: [headers.length - 1, 0, 1, labels], required: 2, lists: [labels] },
    );
    if (results.length === 0) {
      note(ctx, 'No matching resources found.');
      return;
    }
    note(ctx, `\nTo request access to these resources, run\n> ${escapeControls(createLine(results))}`);
  });
  return 0;
}
