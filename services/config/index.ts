export { loadNamespacesFile } from "./namespaces-file.ts";
export {
  addSettings,
  readSettings,
  type SettingName,
  type Settings,
  settingSpecs,
} from "./settings.ts";
