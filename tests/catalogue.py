"""A small Brazilian Portuguese test catalogue, so tests can tell which language a text is in.

The real ``pt_BR`` catalogue is the product's; these few sentences let a test prove whose
language was chosen without depending on its wording.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from handlers import i18n
from handlers.i18n import I18n

#: English message ids and the test's Portuguese for them.
PORTUGUESE: dict[str, str] = {
    "*To*\n%(recipient)s": "*Para*\n%(recipient)s",
    "SMS %(id)s to %(recipient)s sent by %(user)s: %(status)s": (
        "SMS %(id)s para %(recipient)s enviado por %(user)s: %(status)s"
    ),
    "scheduled for %(time)s": "agendado para %(time)s",
    ":white_check_mark: SMS %(id)s to %(recipient)s was delivered.": (
        ":white_check_mark: SMS %(id)s para %(recipient)s foi entregue."
    ),
    "I could not update the channel message about this SMS, so the outcome comes to you.": (
        "Não consegui atualizar a mensagem do canal sobre este SMS, então o resultado vai para você."
    ),
    "No SMS has been sent from this channel yet.": "Nenhum SMS foi enviado deste canal ainda.",
    "*Balance of the Mobizon account*: %(amount)s": "*Saldo da conta Mobizon*: %(amount)s",
    ":warning: The Mobizon balance is low: %(amount)s, below %(threshold)s. Sends will be "
    "refused when it runs out. %(see_balance)s": (
        ":warning: O saldo da Mobizon está baixo: %(amount)s, abaixo de %(threshold)s. "
        "%(see_balance)s"
    ),
    "Send an SMS": "Enviar um SMS",
    "bot posted in #%(channel)s": "o bot postou em #%(channel)s",
    "smsbot restarted before Mobizon answered": "o smsbot reiniciou antes da resposta da Mobizon",
    ":arrows_counterclockwise: Mobizon's answer to this send was not recorded at the time "
    "(smsbot restarted or the answer was lost); Mobizon has this SMS, so it is tracked as usual.": (
        ":arrows_counterclockwise: A resposta da Mobizon não foi registrada na hora."
    ),
}


def portuguese_catalogue(root: Path) -> I18n:
    """Compile :data:`PORTUGUESE` as the ``pt_BR`` catalogue under ``root``; its lookup."""
    catalog = Catalog(locale="pt_BR", domain=i18n.DOMAIN)
    for msgid, msgstr in PORTUGUESE.items():
        catalog.add(msgid, msgstr)
    target = root / "pt_BR" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{i18n.DOMAIN}.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return I18n(root)
