/// Values that Kafka's schemas leave to prose: named here once, beside the generated messages.
extension ListOffsetsRequest {
    public static let latestTimestamp: Int64 = -1
    public static let earliestTimestamp: Int64 = -2
    /// KIP-734 (v7+): the offset and timestamp of the record with the largest timestamp.
    public static let maxTimestamp: Int64 = -3
}

extension DescribeConfigsRequest {
    /// Kafka's ConfigResource.Type codes.
    public static let topicResource: Int8 = 2
    public static let brokerResource: Int8 = 4
}
