import { AssignerProtocol, type PartitionAssigner } from "kafkajs";

/**
 * Gives partition p of every subscribed topic to the same member, so one
 * processor owns a whole slice of a namespace's key space: the log, every
 * retry tier and the holds of those keys. Per-key order across the tiers and
 * one transaction per slice both rest on it; every topic of a namespace
 * therefore has the same number of partitions.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: "WalCoPartitioned",
  version: 0,
  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = assignment.get(memberIds[partitionId % memberIds.length] as string);
        if (member === undefined) continue;
        member[topic] = [...(member[topic] ?? []), partitionId];
      }
    }
    return [...assignment].map(([memberId, topicPartitions]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: topicPartitions,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: "WalCoPartitioned",
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
