import { readFile } from "node:fs/promises";
import * as grpc from "@grpc/grpc-js";
import { describeError, ErrorCode, WalError } from "../core/index.ts";

/** PEM files of the gateway's TLS; empty strings leave TLS off. */
export interface GatewayTlsFiles {
  tlsCert: string;
  tlsKey: string;
  tlsClientCa: string;
}

export type GatewayTlsMode = "off" | "tls" | "mutual-tls";

async function pem(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new WalError(
      ErrorCode.invalidConfig,
      `${flag} '${file}' cannot be read (${describeError(cause)}); give a readable PEM file`,
      { field: flag, cause },
    );
  }
}

/**
 * The gRPC server credentials the files ask for: plaintext, TLS, or mutual
 * TLS (a client certificate signed by `tlsClientCa` required on every call).
 */
export async function grpcServerCredentials(
  files: GatewayTlsFiles,
): Promise<{ credentials: grpc.ServerCredentials; mode: GatewayTlsMode }> {
  const { tlsCert, tlsKey, tlsClientCa } = files;
  if ((tlsCert === "") !== (tlsKey === "")) {
    throw new WalError(
      ErrorCode.invalidConfig,
      "--tls-cert (WAL_TLS_CERT) and --tls-key (WAL_TLS_KEY) go together: give both for TLS, or neither",
      { field: tlsCert === "" ? "tlsCert" : "tlsKey" },
    );
  }
  if (tlsCert === "") {
    if (tlsClientCa !== "") {
      throw new WalError(
        ErrorCode.invalidConfig,
        "--tls-client-ca (WAL_TLS_CLIENT_CA) needs --tls-cert and --tls-key: mutual TLS is TLS first",
        { field: "tlsClientCa" },
      );
    }
    return { credentials: grpc.ServerCredentials.createInsecure(), mode: "off" };
  }
  const keyPair = {
    cert_chain: await pem(tlsCert, "--tls-cert"),
    private_key: await pem(tlsKey, "--tls-key"),
  };
  const clientCa = tlsClientCa === "" ? null : await pem(tlsClientCa, "--tls-client-ca");
  try {
    return {
      credentials: grpc.ServerCredentials.createSsl(clientCa, [keyPair], clientCa !== null),
      mode: clientCa === null ? "tls" : "mutual-tls",
    };
  } catch (cause) {
    throw new WalError(
      ErrorCode.invalidConfig,
      `the TLS files do not make a usable server identity (${describeError(cause)}); check that --tls-key is the key of --tls-cert, both PEM`,
      { field: "tlsCert", cause },
    );
  }
}
