import { describe, expect, it } from "vitest";
import { snsStringToSign, type SnsMessage } from "../../../../src/sources/inbound-webhook/sns-message.ts";

describe("snsStringToSign", () => {
  it("When a Notification has no Subject, then the Subject line is left out; a confirmation signs SubscribeURL and Token", () => {
    const base = { MessageId: "m", TopicArn: "arn", Message: "hi", Timestamp: "t", SignatureVersion: "2", Signature: "", SigningCertURL: "" } as const;
    expect(snsStringToSign({ ...base, Type: "Notification" } as SnsMessage)).toBe("Message\nhi\nMessageId\nm\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n");
    expect(snsStringToSign({ ...base, Type: "SubscriptionConfirmation", SubscribeURL: "u", Token: "k" } as SnsMessage)).toBe(
      "Message\nhi\nMessageId\nm\nSubscribeURL\nu\nTimestamp\nt\nToken\nk\nTopicArn\narn\nType\nSubscriptionConfirmation\n",
    );
  });
});
