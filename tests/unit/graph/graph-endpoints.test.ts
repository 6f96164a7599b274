import { describe, expect, it } from "vitest";
import { authorizationUrl, pushEndpointProblem, pushUrls, splitGraphApiUrl, tokenUrl } from "../../../src/sources/graph/graph-endpoints.ts";

describe("splitGraphApiUrl", () => {
  it("splits the public Graph root into the client's baseUrl, version and host", () => {
    expect(splitGraphApiUrl("https://graph.microsoft.com/v1.0")).toEqual({
      baseUrl: "https://graph.microsoft.com",
      version: "v1.0",
      host: "graph.microsoft.com",
    });
  });

  it("keeps the port in baseUrl but not in the host the bearer token may go to", () => {
    expect(splitGraphApiUrl("https://127.0.0.1:8443/v1.0")).toEqual({ baseUrl: "https://127.0.0.1:8443", version: "v1.0", host: "127.0.0.1" });
  });

  it("defaults the version to v1.0 and keeps a path prefix before it", () => {
    expect(splitGraphApiUrl("https://graph.microsoft.us")).toMatchObject({ baseUrl: "https://graph.microsoft.us", version: "v1.0" });
    expect(splitGraphApiUrl("https://proxy.example.com/graph/beta")).toMatchObject({ baseUrl: "https://proxy.example.com/graph", version: "beta" });
  });
});

describe("authorizationUrl", () => {
  const url = new URL(
    authorizationUrl({
      loginUrl: "https://login.microsoftonline.com",
      tenantId: "contoso.onmicrosoft.com",
      clientId: "client-1",
      redirectUri: "https://mailgate.example.com/admin/oauth/microsoft/callback",
      state: "state-1",
      codeChallenge: "challenge-1",
    }),
  );

  it("points at the tenant's v2.0 authorize endpoint with the code flow and PKCE S256", () => {
    expect(`${url.origin}${url.pathname}`).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: "client-1",
      response_type: "code",
      response_mode: "query",
      state: "state-1",
      code_challenge: "challenge-1",
      code_challenge_method: "S256",
    });
  });

  it("asks for offline access, the mail and profile permissions the guide lists, and Mail.Send for answers", () => {
    expect(url.searchParams.get("scope")).toBe("offline_access Mail.Read Mail.ReadWrite Mail.Send User.Read");
  });
});

describe("tokenUrl and pushUrls", () => {
  it("derive the token endpoint from the tenant and the push endpoints from PUBLIC_URL", () => {
    expect(tokenUrl("https://login.microsoftonline.us", "t-1")).toBe("https://login.microsoftonline.us/t-1/oauth2/v2.0/token");
    expect(pushUrls("https://mailgate.example.com")).toEqual({
      notificationUrl: "https://mailgate.example.com/push/graph",
      lifecycleNotificationUrl: "https://mailgate.example.com/push/graph/lifecycle",
    });
  });
});

describe("pushEndpointProblem", () => {
  it("When PUBLIC_URL is plain http, then it says Graph needs https and what to set", () => {
    expect(pushEndpointProblem("http://localhost:3000")).toContain("set PUBLIC_URL to the https address");
    expect(pushEndpointProblem("https://mailgate.example.com")).toBeNull();
  });
});
