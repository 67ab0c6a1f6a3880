// Compiled (tsc --strict --noEmit) against the types openapi-typescript
// generates from openapi/openapi.json, by scripts/ts-client in CI: each line
// reads a field as a web or mobile frontend would, without casts. A field
// declared as a bare object, or nullable where it is only ever absent, makes
// this file fail to compile.
import type { components, operations } from "./api";

type S = components["schemas"];

export function conflict(p: S["Problem"]): string {
  // 412 carries the cart as it is now, 409 total_changed the new review.
  const current = p.current;
  if (current === undefined) return p.code;
  return "items" in current ? current.version.toString() : current.expected_total.usd;
}

export function order(o: S["OrderDetails"]): string[] {
  const out: string[] = [
    o.delivery.usd, // the delivery cost
    o.delivery_option.name, // the option chosen
    o.delivery_option.kind,
    o.address.state,
    o.address.reference_point,
    o.customization.gift_message,
  ];
  for (const a of o.allowed_actions) {
    out.push(a.path, a.method, a.body.status ?? "", ...a.required_fields);
  }
  for (const p of o.payments) {
    const d = p.details;
    if (d.kind === "reported") out.push(d.reference, d.bank);
    else out.push(d.amount, d.currency, d.collected_by);
  }
  return out;
}

export function nextPage(page: S["OrderPage"]): string | undefined {
  const next: string | undefined = page.next_cursor; // absent on the last page, never null
  return next;
}

export function headers(h: operations["add_cart_item"]["parameters"]["header"]): string {
  const ifMatch: string | undefined = h?.["If-Match"]; // a string when sent, never null
  const token: string | undefined = h?.["X-Cart-Token"];
  return `${ifMatch ?? ""}${token ?? ""}`;
}

export function ticket(t: S["StreamTicket"]): string {
  return t.url;
}
