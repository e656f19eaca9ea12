"""A web store's integration, written only against the client openapi-python-client
generated from the hub's /openapi.json (tests/generated_client.rs generates it, then runs
this). Prints what it read as one JSON object for the Rust side to check.

Arguments: HUB_URL API_KEY CUSTOMER SKU DAY PRODUCTS_FEED INVENTORY_FEED RECEIVER_URL
"""

import datetime
import json
import sys

from vitrine_hub_client import AuthenticatedClient
from vitrine_hub_client.api.measurement import (
    days_report, get_consent, get_order, kiosks_report, post_order, post_refund, products_report,
    put_consent, shops_report,
)
from vitrine_hub_client.api.webhooks import deliveries, list_, register, remove, replay, rotate
from vitrine_hub_client.api.webstore import (
    customer_alias, erase_customer, mint_token, upload_inventory, upload_products, visits,
    webstore_customer_wishlist, webstore_ops, wishlist_changes, wishlist_snapshot,
)
from vitrine_hub_client.models import (
    ConsentRequest, EndpointRequest, MintRequest, Op, OrderLine, OrderRequest, OwnerType0, Problem,
    PushRequest, RefundRequest, ReplayRequest,
)
from vitrine_hub_client.models.action import Action
from vitrine_hub_client.types import File


def ok(answer):
    """An answer that is not a Problem, or the Problem raised."""
    if answer is None or isinstance(answer, Problem):
        raise SystemExit(f"the hub refused: {answer}")
    return answer


hub, key, customer, sku, day, products_feed, inventory_feed, receiver = sys.argv[1:9]
client = AuthenticatedClient(base_url=hub, token=key, raise_on_unexpected_status=True)
out = {}

with open(products_feed, "rb") as feed:
    summary = ok(upload_products.sync(client=client, body=File(payload=feed), lang="fr"))
out["products_unchanged"] = summary.unchanged
with open(inventory_feed, "rb") as feed:
    out["inventory_feed"] = ok(upload_inventory.sync(client=client, body=File(payload=feed))).feed

endpoint = ok(register.sync(client=client, body=EndpointRequest(url=receiver, events=[])))
out["secret_prefix"] = endpoint.secret[:6]
out["endpoints"] = len(ok(list_.sync(client=client)).endpoints)

out["consent"] = ok(put_consent.sync(customer, client=client, body=ConsentRequest(measurement=True))).measurement
out["consent_read"] = ok(get_consent.sync(customer, client=client)).measurement
now = datetime.datetime.now(datetime.timezone.utc)
order = OrderRequest(
    order_id="py-1", customer=customer, placed_at=now, currency="EUR",
    lines=[OrderLine(sku=sku, quantity=2, unit_price="59.90")],
)
out["order"] = ok(post_order.sync(client=client, body=order)).status.value
out["order_again"] = ok(post_order.sync(client=client, body=order)).status.value
credit = ok(get_order.sync("py-1", client=client))
out["credited_store"] = credit.attributed.store_code if credit.attributed else None
out["refund"] = ok(post_refund.sync(
    "py-1", client=client, body=RefundRequest(refund_id="r-1", lines=None)
)).status.value

changes = ok(wishlist_changes.sync(client=client, limit=1000))
out["changes"] = len(changes.changes)
out["snapshot"] = len(ok(wishlist_snapshot.sync(client=client)).changes)
out["visits"] = [v.customer for v in ok(visits.sync(client=client)).visits]
out["list"] = [line.sku for line in ok(webstore_customer_wishlist.sync(customer, client=client)).items]

push = PushRequest(stream="py-stream", ops=[Op(
    seq=1, hlc=int(now.timestamp() * 1000) << 16, owner=OwnerType0(customer="py-other"), sku=sku,
    action=Action.ADD,
)])
out["pushed"] = ok(webstore_ops.sync(client=client, body=push)).acked_seq
out["minted"] = len(ok(mint_token.sync(client=client, body=MintRequest(customer="py-other"))).token)
out["alias"] = len(ok(customer_alias.sync("py-other", client=client)).alias)
out["erased"] = ok(erase_customer.sync("py-other", client=client)).customer

shops = ok(shops_report.sync(client=client, from_=day, to=day))
out["rule"] = shops.attribution.rule
out["shops"] = {s.store_code: {"visits": s.visits, "orders_attributed": s.orders_attributed} for s in shops.shops}
out["kiosks"] = len(ok(kiosks_report.sync(client=client, from_=day, to=day)).kiosks)
out["days"] = len(ok(days_report.sync(client=client, from_=day, to=day)).days)
out["products"] = len(ok(products_report.sync(client=client, from_=day, to=day)).products)

out["deliveries"] = len(ok(deliveries.sync(endpoint.endpoint.id, client=client)).deliveries)
out["rotated"] = ok(rotate.sync(endpoint.endpoint.id, client=client)).secret != endpoint.secret
out["replayed"] = ok(replay.sync(
    endpoint.endpoint.id, client=client, body=ReplayRequest(since=now - datetime.timedelta(minutes=5))
)).queued
remove.sync_detailed(endpoint.endpoint.id, client=client)
out["endpoints_after"] = len(ok(list_.sync(client=client)).endpoints)

print(json.dumps(out))
