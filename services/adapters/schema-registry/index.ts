export { registryEndpoint } from "./endpoint.ts";
export { RegistryHttp, type RegistryHttpOptions, type RegistryVersion } from "./registry-http.ts";
export {
  RegistryPayloadSchemas,
  type RegistryPayloadSchemasOptions,
} from "./registry-payload-schemas.ts";
