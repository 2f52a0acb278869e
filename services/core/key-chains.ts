/** An entry of a key that waits outside the log: its log offset and when it may next be tried. */
export interface ChainLink {
  logOffset: bigint;
  notBeforeMs: number;
}

/**
 * Strict per-key order for the entries that left the log (retry tiers,
 * delays): each key's waiting entries in log order. Only a key's head may be
 * delivered; the others wait behind it, and an entry of a key with a chain
 * joins its end. Pure state: the processor persists it in the holds topic.
 */
export class KeyChains {
  private readonly chains = new Map<string, ChainLink[]>();

  isHeld(key: string): boolean {
    return this.chains.has(key);
  }

  head(key: string): ChainLink | undefined {
    return this.chains.get(key)?.[0];
  }

  isHead(key: string, logOffset: bigint): boolean {
    return this.head(key)?.logOffset === logOffset;
  }

  has(key: string, logOffset: bigint): boolean {
    return this.chains.get(key)?.some((link) => link.logOffset === logOffset) ?? false;
  }

  /** Adds or reschedules the entry, keeping the chain in log order. */
  put(key: string, link: ChainLink): void {
    const chain = this.chains.get(key) ?? [];
    const at = chain.findIndex((l) => l.logOffset >= link.logOffset);
    if (at === -1) chain.push(link);
    else if (chain[at]?.logOffset === link.logOffset) chain[at] = link;
    else chain.splice(at, 0, link);
    this.chains.set(key, chain);
  }

  remove(key: string, logOffset: bigint): void {
    const chain = this.chains.get(key);
    if (chain === undefined) return;
    const rest = chain.filter((l) => l.logOffset !== logOffset);
    if (rest.length === 0) this.chains.delete(key);
    else this.chains.set(key, rest);
  }

  /**
   * When a waiting entry that is not its key's head should next look: just
   * after the head, in log order (the head's time plus its place in line, in
   * milliseconds), so it follows the head through the tiers.
   */
  behindHead(key: string, logOffset: bigint): number | undefined {
    const chain = this.chains.get(key);
    const head = chain?.[0];
    if (chain === undefined || head === undefined) return undefined;
    const rank = chain.findIndex((l) => l.logOffset >= logOffset);
    return head.notBeforeMs + (rank === -1 ? chain.length : Math.max(1, rank));
  }

  links(key: string): readonly ChainLink[] {
    return this.chains.get(key) ?? [];
  }

  /** The holds-topic value of a key's chain; null (a tombstone) when none waits. */
  encode(key: string): Buffer | null {
    const chain = this.chains.get(key);
    if (chain === undefined) return null;
    return Buffer.from(
      JSON.stringify(chain.map((l) => [l.logOffset.toString(), l.notBeforeMs] as const)),
    );
  }

  /** Loads a key's chain from its holds-topic value (null: nothing waits). */
  load(key: string, value: Buffer | null): void {
    this.chains.delete(key);
    if (value === null || value.length === 0) return;
    const parsed = JSON.parse(value.toString()) as [string, number][];
    for (const [offset, notBeforeMs] of parsed) {
      this.put(key, { logOffset: BigInt(offset), notBeforeMs });
    }
  }

  get size(): number {
    return this.chains.size;
  }
}
