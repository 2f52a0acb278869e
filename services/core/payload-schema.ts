import { describeError, ErrorCode, WalError } from "./errors.ts";

/** Byte 0 of a payload in the Confluent wire format; bytes 1–4 are the schema id (big-endian). */
const wireFormatMagicByte = 0;
const wireFormatHeaderBytes = 5;

/** A registered schema the gateway can decode payloads with. */
export interface PayloadSchema {
  /** Decodes a whole body; throws when the bytes are not exactly one value of the schema. */
  decode(body: Buffer): unknown;
}

/**
 * The schema registry as the gateway sees it. Answers undefined for an id the
 * registry does not have; throws WAL_REGISTRY_UNAVAILABLE when it cannot ask.
 */
export interface PayloadSchemas {
  schemaById(id: number): Promise<PayloadSchema | undefined>;
  /** Whether the schema with this id is one of the subject's versions. */
  isUnderSubject(subject: string, id: number): Promise<boolean>;
}

/** A body in the Confluent wire format: magic byte, the schema id (big-endian), the Avro body. */
export function toWireFormat(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(wireFormatHeaderBytes);
  header[0] = wireFormatMagicByte;
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

function refused(code: ErrorCode, message: string): WalError {
  return new WalError(code, `payload ${message}`, { field: "payload" });
}

/** Splits a Confluent wire-format payload; anything else is WAL_INVALID_PAYLOAD saying what it saw. */
function splitWireFormat(payload: Buffer): { schemaId: number; body: Buffer } {
  if (payload.length < wireFormatHeaderBytes || payload[0] !== wireFormatMagicByte) {
    const start = payload.subarray(0, wireFormatHeaderBytes).toString("hex") || "nothing";
    throw refused(
      ErrorCode.invalidPayload,
      `is not in the Confluent wire format (magic byte 0, a 4-byte schema id, then the Avro body); its first bytes are ${start}. Encode it with the namespace's schema through the registry (the WAL client SDK does)`,
    );
  }
  // Registry ids are positive signed 32-bit integers; anything else names no schema.
  return { schemaId: payload.readInt32BE(1), body: payload.subarray(wireFormatHeaderBytes) };
}

/**
 * Checks a payload against a namespace's subject: wire format, a schema id the
 * registry knows, registered under the subject, and a body that decodes with it.
 */
export async function checkPayload(
  payload: Buffer,
  subject: string,
  schemas: PayloadSchemas,
): Promise<void> {
  const { schemaId, body } = splitWireFormat(payload);
  const schema = schemaId > 0 ? await schemas.schemaById(schemaId) : undefined;
  if (schema === undefined) {
    throw refused(
      ErrorCode.unknownSchema,
      `names schema id ${schemaId}, which the schema registry does not have. Register the schema under subject '${subject}' and encode with the id it gives`,
    );
  }
  if (!(await schemas.isUnderSubject(subject, schemaId))) {
    throw refused(
      ErrorCode.schemaNotInSubject,
      `uses schema id ${schemaId}, which is not a version of subject '${subject}' (the namespace's payload subject). Register the schema under '${subject}' or write to the namespace that owns it`,
    );
  }
  try {
    schema.decode(body);
  } catch (error) {
    throw refused(
      ErrorCode.invalidPayload,
      `does not decode with schema id ${schemaId} of subject '${subject}': ${describeError(error)}. Encode the value with that schema`,
    );
  }
}
