/** The pipeline loader: project.conf, .bst files, composition, variables and the dependency graph. */
export { loadProject, LoadedProject } from './loader.js';
export { loadProjectConfig, findProjectDirectory, type LoadOptions, type ProjectConfig } from './project.js';
export { checkElementName } from './element.js';
export { dependencies, directDependencies, scope, scopeOf } from '../scope.js';
export { sortDependencies } from './graph.js';
export { writeSourceRef, formatRef } from './refs.js';
export { parseYaml, loadYamlFile } from './yaml.js';
export { composite, compositeValue, checkNoDirectives } from './composite.js';
export { resolveVariables, expandString, expandNode, PROTECTED_VARIABLES, type VariableDef } from './variables.js';
export { parseBool, parseInteger } from './validate.js';
export { evaluateCondition, type ProjectOption } from './options.js';
export { toPlain, type Node, type MapNode, type ListNode, type ScalarNode } from './node.js';
export { loadUserConfig, defaultUserConfigPath, type UserConfig, type UserProjectOptions } from './user-config.js';
