"""What Mobizon says SMS cost: ``message/list`` asked by campaign, page after page.

The one loop that asks, used by the cost lookup of delivery tracking and by ``/sms balance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from bot.mobizon import ListCriteria, SmsGateway

#: Campaign ids asked per ``message/list`` request, and the page size asked.
CHUNK = 100


async def stated_costs(
    gateway: SmsGateway, wanted: Mapping[int, int], *, into: dict[int, Decimal] | None = None
) -> dict[int, Decimal]:
    """The cost Mobizon states of each of ``wanted``'s messages (message id → campaign id).

    Campaigns are asked :data:`CHUNK` at a time, each chunk page after page. A message whose
    cost Mobizon does not state is left out. Costs are added to ``into`` as they come (so a
    caller that gives up midway keeps what was learned) and ``into`` is returned.
    """
    costs = {} if into is None else into
    campaigns = sorted(set(wanted.values()))
    for start in range(0, len(campaigns), CHUNK):
        chunk = tuple(campaigns[start : start + CHUNK])
        page_no = 0
        while True:
            page = await gateway.list_messages(
                ListCriteria(campaign_ids=chunk), page=page_no, page_size=CHUNK
            )
            for item in page.items:
                if item.id in wanted and item.cost is not None:
                    costs[item.id] = item.cost
            page_no += 1
            if page_no >= page.page_count:
                break
    return costs
