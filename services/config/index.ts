export {
  type ConfigPropagationOptions,
  measureConfigPropagation,
} from "./config-propagation.ts";
export {
  ControlPlaneNamespaceSource,
  type ControlPlaneNamespaceSourceOptions,
  type NamespaceReader,
  startControlPlaneNamespaceSource,
} from "./control-plane-namespace-source.ts";
export { FileNamespaceSource, fileNamespaceSource } from "./file-namespace-source.ts";
export { loadNamespacesFile } from "./namespaces-file.ts";
export {
  addSettings,
  readSettings,
  type SettingName,
  type Settings,
  settingSpecs,
} from "./settings.ts";
