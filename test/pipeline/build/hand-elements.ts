import type { DepType, Element, Project, SourceDecl, YamlMap } from '../../../src/pipeline/model.js';

/**
 * Elements built by hand (the model.ts contract) for unit tests that must not depend on the
 * loader: the defaults the loader would compose in are filled here.
 */
export function makeProject(dir = '/nonexistent/project', name = 'test'): Project {
  return {
    name,
    directory: dir,
    elementDirectory: dir,
    aliases: {},
    mirrors: [],
    refStorage: 'inline',
    fatalWarnings: [],
    declaredPlugins: new Map(),
    refsFile: `${dir}/project.refs`,
    options: {},
    shell: { command: ['sh', '-i'], environment: {}, hostFiles: [] },
    defaultTargets: [],
  };
}

export interface HandElement {
  kind: string;
  deps?: [Element, DepType][];
  config?: YamlMap;
  variables?: Record<string, string>;
  environment?: Record<string, string>;
  environmentNocache?: string[];
  public?: YamlMap;
  sources?: Omit<SourceDecl, 'index' | 'position'>[];
}

export function makeElement(project: Project, name: string, spec: HandElement): Element {
  const file = `${project.elementDirectory}/${name}`;
  return {
    name,
    file,
    project,
    kind: spec.kind,
    description: '',
    variables: {
      'project-name': project.name,
      'element-name': name,
      'build-root': `/buildstream/${project.name}/${name}`,
      'install-root': '/buildstream-install',
      cwd: '/',
      ...spec.variables,
    },
    environment: {
      PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
      SHELL: '/bin/sh',
      HOME: '/tmp',
      LC_ALL: 'C',
      TZ: 'UTC',
      SOURCE_DATE_EPOCH: '1321009871',
      ...spec.environment,
    },
    environmentNocache: spec.environmentNocache ?? [],
    config: spec.config ?? {},
    public: spec.public ?? {},
    sandbox: { buildUid: 0, buildGid: 0 },
    sources: (spec.sources ?? []).map((s, index) => ({ ...s, index, position: { file, line: 1, col: 1 } })),
    dependencies: (spec.deps ?? []).map(([element, type]) => ({ element, type, strict: false })),
    positions: new Map(),
  };
}
