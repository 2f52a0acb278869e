export { registryEndpoint } from "./endpoint.ts";
export {
  RegistryPayloadSchemas,
  type RegistryPayloadSchemasOptions,
} from "./registry-payload-schemas.ts";
