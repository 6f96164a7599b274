import { describe, expect, it } from "vitest";
import { buildDirectory, checkLogin, copiesFor, decideRecipient, type ListenerSource } from "../../../../src/sources/smtp/recipient-directory.ts";

const source = (id: string, addresses: string[], extra: Partial<ListenerSource> = {}): ListenerSource => ({ id, addresses, enabled: true, auth: null, ...extra });

const directory = buildDirectory([
  source("support", ["support@msp.example", "Help@MSP.example"]),
  source("acme", ["acme@in.msp.example"]),
  source("relay", ["relayed@msp.example"], { auth: { user: "relay", password: "relay-password" } }),
  source("relay-too", ["other@msp.example"], { auth: { user: "relay", password: "another-password" } }),
  source("off", ["paused@msp.example"], { enabled: false }),
  source("also-support", ["support@msp.example"]),
]);

describe("decideRecipient", () => {
  it("When an address is owned, then it is accepted for every owner, whatever its case", () => {
    expect(decideRecipient(directory, "SUPPORT@msp.example", null)).toEqual({ kind: "accept", sourceIds: ["support", "also-support"] });
    expect(decideRecipient(directory, "help@msp.example", null)).toEqual({ kind: "accept", sourceIds: ["support"] });
  });

  it("When no source owns an address, then it is refused 550 and counts as a probe", () => {
    expect(decideRecipient(directory, "nobody@msp.example", null)).toMatchObject({ kind: "refuse", code: 550, counts: true });
  });

  it("When the owner is disabled, then the sender is asked to retry (450) without counting it", () => {
    expect(decideRecipient(directory, "paused@msp.example", null)).toMatchObject({ kind: "refuse", code: 450, counts: false });
  });

  it("When the owner wants AUTH, then a session without a login gets 530, another login 550, its own login is accepted", () => {
    expect(decideRecipient(directory, "relayed@msp.example", null)).toMatchObject({ kind: "refuse", code: 530 });
    expect(decideRecipient(directory, "relayed@msp.example", { user: "someone", sourceIds: ["elsewhere"] })).toMatchObject({ kind: "refuse", code: 550 });
    expect(decideRecipient(directory, "relayed@msp.example", checkLogin(directory, "relay", "relay-password"))).toEqual({ kind: "accept", sourceIds: ["relay"] });
  });

  it("When two sources share an AUTH user name, then a login with one's password delivers to that one only", () => {
    const login = checkLogin(directory, "relay", "relay-password");
    expect(login).toEqual({ user: "relay", sourceIds: ["relay"] });
    expect(decideRecipient(directory, "other@msp.example", login)).toMatchObject({ kind: "refuse", code: 550 });
    expect(decideRecipient(directory, "other@msp.example", checkLogin(directory, "relay", "another-password"))).toEqual({ kind: "accept", sourceIds: ["relay-too"] });
  });
});

describe("copiesFor and checkLogin", () => {
  it("When a transaction names several owners' addresses, then each owner gets one copy", () => {
    expect(copiesFor(directory, ["support@msp.example", "help@msp.example", "acme@in.msp.example"], null).sort()).toEqual(["acme", "also-support", "support"]);
  });

  it("When a login is checked, then only a stored user and its password pass", () => {
    expect(checkLogin(directory, "relay", "relay-passwore")).toBeNull();
    expect(checkLogin(directory, "nobody", "relay-password")).toBeNull();
  });
});
