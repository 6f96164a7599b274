import { describe, expect, it } from "vitest";
import { unixSocketOf } from "../../../src/db/client.ts";

describe("unixSocketOf", () => {
  it("When DATABASE_URL names a socket directory the libpq way, then the directory becomes the host option", () => {
    expect(unixSocketOf("postgres://postgres@/mailgate?host=/var/run/postgresql")).toEqual({
      url: "postgres://postgres@localhost/mailgate",
      socketDir: "/var/run/postgresql",
    });
    expect(unixSocketOf("postgres://u:p@/db?host=%2Ftmp&sslmode=disable")).toEqual({ url: "postgres://u:p@localhost/db?sslmode=disable", socketDir: "/tmp" });
  });

  it("When DATABASE_URL is a TCP address, then it is used as it is", () => {
    const url = "postgres://postgres@127.0.0.1:5432/test";
    expect(unixSocketOf(url)).toEqual({ url, socketDir: null });
    expect(unixSocketOf("postgres://h/db?host=db.internal").socketDir).toBeNull();
  });
});
