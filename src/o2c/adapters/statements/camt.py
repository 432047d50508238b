"""ISO 20022 camt.052, camt.053 and camt.054 (versions 02 to 08), read as a stream.

The XML parser is lxml, configured so that a hostile file cannot hurt: entities are not
resolved, the network is never used, no DTD is loaded (a file that has a DTD at all is refused),
and lxml's limits for huge documents stay on. Entries are read one at a time with ``iterparse``
and dropped once read, so a large statement never sits in memory as a tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from o2c.adapters.statements._common import Reader, amount_of, check_size, refuse, ymd
from o2c.domain.errors import DomainError
from o2c.domain.money import Money
from o2c.domain.statements import (
    BankStatement,
    BankTransactionCode,
    Direction,
    EntryStatus,
    StatementEntry,
    StatementKind,
    Transaction,
)
from o2c.ports.statements import Progress, StatementLimits

__all__ = ["CAMT053_V2", "NAMESPACE", "read_camt", "render_camt053"]

NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(0[2-8])$")
"""The namespaces read: camt.052, .053 and .054, versions 02 to 08."""

_MESSAGES = {
    "052": ("BkToCstmrAcctRpt", "Rpt", StatementKind.INTRADAY),
    "053": ("BkToCstmrStmt", "Stmt", StatementKind.STATEMENT),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", StatementKind.NOTIFICATION),
}

_READ_TAGS = tuple(
    f"{{*}}{name}"
    for name in ("Ntry", "Bal", "Acct", "Id", "CreDtTm", "GrpHdr", "Stmt", "Rpt", "Ntfctn")
)
_STATUS = {"BOOK": EntryStatus.BOOKED, "PDNG": EntryStatus.PENDING, "INFO": EntryStatus.INFO}
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)
_INTERIM = "ITBD"
"""Available (``OPAV``, ``CLAV``, ``FWAV``, ``ITAV``) and information balances are not booked
balances: they are not checked against the lines."""


def _booked(balances: dict[str, Money], interim: list[Money]) -> tuple[Money | None, Money | None]:
    """The opening and closing booked balances of a statement (or of one page of it).

    ``OPBD`` (else ``PRCD``) opens and ``CLBD`` closes. A page of a statement split over several
    messages has an interim booked balance (``ITBD``) in place of the one it lacks: the first
    page opens with ``OPBD`` and closes with ``ITBD``, a middle page has two, the last page opens
    with ``ITBD`` and closes with ``CLBD``.
    """
    opening = next((balances[c] for c in _OPENING if c in balances), None)
    closing = next((balances[c] for c in _CLOSING if c in balances), None)
    if opening is None and closing is None and len(interim) >= 2:
        return interim[0], interim[-1]
    if opening is None and closing is not None and interim:
        return interim[0], closing
    if closing is None and opening is not None and interim:
        return opening, interim[-1]
    return opening, closing


def _etree() -> Any:
    try:
        from lxml import etree  # noqa: PLC0415  (the bank extra, only when a camt file is read)
    except ImportError as error:  # pragma: no cover - depends on the environment
        from o2c.adapters.statements import MissingBankExtra  # noqa: PLC0415

        raise MissingBankExtra() from error
    return etree


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


class _Names:
    """Paths of local names as tuples of qualified tags of one namespace, each built once."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self._paths: dict[str, tuple[str, ...]] = {}

    def __call__(self, path: str) -> tuple[str, ...]:
        found = self._paths.get(path)
        if found is None:
            found = tuple(f"{{{self.ns}}}{name}" for name in path.split("/"))
            self._paths[path] = found
        return found

    def tag(self, name: str) -> str:
        """The qualified tag of one local name."""
        return f"{{{self.ns}}}{name}"


_LOCAL_NAMES: dict[str, str] = {}


def _index(el: Any) -> dict[str, list[Any]]:
    """Every element below ``el`` by its path of local names, read in one pass.

    One walk per entry in lxml's own iteration is far quicker than a path lookup per field.
    """
    found: dict[str, list[Any]] = {}
    stack = [(el, "")]
    names = _LOCAL_NAMES
    while stack:
        parent, prefix = stack.pop()
        for child in parent:
            tag = child.tag
            name = names.get(tag)
            if name is None:
                name = names.setdefault(tag, _local(tag))
            path = prefix + name
            same = found.get(path)
            if same is None:
                found[path] = [child]
            else:
                same.append(child)
            if len(child):
                stack.append((child, path + "/"))
    return found


class _Node:
    """An element read by paths of local names, whatever the namespace version."""

    __slots__ = ("el", "index", "prefix")

    def __init__(self, el: Any, index: dict[str, list[Any]], prefix: str = "") -> None:
        self.el = el
        self.index = index
        self.prefix = prefix

    @classmethod
    def of(cls, el: Any) -> _Node:
        """An element with its subtree indexed."""
        return cls(el, _index(el))

    def find(self, path: str) -> _Node | None:
        full = self.prefix + path
        found = self.index.get(full)
        return None if not found else _Node(found[0], self.index, full + "/")

    def all(self, path: str) -> list[_Node]:
        full = self.prefix + path
        found = self.index.get(full) or []
        if len(found) == 1:
            return [_Node(found[0], self.index, full + "/")]
        # Siblings of one name each need an index of their own: the shared one mixes them.
        return [_Node.of(e) for e in found]

    def text(self, path: str = "") -> str:
        if path:
            found = self.index.get(self.prefix + path)
            text = found[0].text if found else None
        else:
            text = self.el.text
        return str(text).strip() if text else ""

    def attr(self, name: str) -> str:
        return str(self.el.get(name) or "")


class _Camt:
    def __init__(self, source: str, kind: StatementKind, ns: str) -> None:
        self.source = source
        self.kind = kind
        self.ns = ns
        self.q = _Names(ns)
        self.position = 0
        self.message_id = ""
        self.created: date | None = None
        self.statements: list[BankStatement] = []
        self._reset()

    def _reset(self) -> None:
        self.entries: list[StatementEntry] = []
        self.balances: dict[str, Money] = {}
        self.interim: list[Money] = []
        """The ``ITBD`` balances in order: where a page of a long statement starts and ends."""
        self.statement_id = ""
        self.account = ""
        self.currency = ""

    # -- pieces --------------------------------------------------------------------------------

    def money(self, node: _Node | None, where: str) -> Money:
        if node is None:
            refuse(self.source, where, "an amount is missing")
        currency = node.attr("Ccy")
        if not currency:
            refuse(self.source, where, "an amount has no currency (Ccy)")
        return amount_of(node.text(), currency, self.source, where)

    def day(self, node: _Node | None, where: str) -> date | None:
        if node is None:
            return None
        text = node.text("Dt") or node.text("DtTm")
        return ymd(text, self.source, where) if text else None

    def account_of(self, node: _Node | None) -> str:
        if node is None:
            return ""
        return node.text("Id/IBAN") or node.text("Id/Othr/Id")

    def party_name(self, node: _Node | None) -> str:
        if node is None:
            return ""
        return node.text("Nm") or node.text("Pty/Nm")

    def code(self, node: _Node | None) -> BankTransactionCode:
        if node is None:
            return BankTransactionCode()
        return BankTransactionCode(
            domain=node.text("Domn/Cd"),
            family=node.text("Domn/Fmly/Cd"),
            subfamily=node.text("Domn/Fmly/SubFmlyCd"),
            proprietary=node.text("Prtry/Cd"),
        )

    # -- elements ------------------------------------------------------------------------------

    def header(self, el: Any) -> None:
        node = _Node.of(el)
        self.message_id = node.text("MsgId")
        created = node.text("CreDtTm")
        self.created = ymd(created, self.source, "group header") if created else None

    def balance(self, el: Any) -> None:
        node = _Node.of(el)
        code = node.text("Tp/CdOrPrtry/Cd") or node.text("Tp/CdOrPrtry/Prtry")
        where = f"balance {code or '?'}"
        amount = self.money(node.find("Amt"), where)
        if node.text("CdtDbtInd") == "DBIT":
            amount = -amount
        if code == _INTERIM:
            self.interim.append(amount)
        else:
            self.balances.setdefault(code, amount)

    def account_header(self, el: Any) -> None:
        node = _Node.of(el)
        self.account = self.account_of(node)
        self.currency = node.text("Ccy")

    def transaction(self, node: _Node, debit: bool, where: str) -> Transaction:
        amount_node = node.find("Amt") or node.find("AmtDtls/TxAmt/Amt")
        amount = self.money(amount_node, where) if amount_node is not None else None
        parties = node.find("RltdPties")
        party, account = ("Cdtr", "CdtrAcct") if debit else ("Dbtr", "DbtrAcct")
        remittance = " ".join(n.text() for n in node.all("RmtInf/Ustrd") if n.text())
        structured = node.all("RmtInf/Strd")
        reference = ""
        extra: list[str] = []
        for block in structured:
            reference = reference or block.text("CdtrRefInf/Ref")
            extra.extend(n.text() for n in block.all("AddtlRmtInf") if n.text())
        if extra:
            remittance = " ".join([remittance, *extra]).strip()
        reason = node.text("RtrInf/Rsn/Cd") or node.text("RtrInf/Rsn/Prtry")
        return Transaction(
            amount=amount,
            payer_name=self.party_name(parties.find(party)) if parties else "",
            payer_account=self.account_of(parties.find(account)) if parties else "",
            reference=reference,
            remittance=remittance,
            end_to_end_id=node.text("Refs/EndToEndId"),
            bank_reference=node.text("Refs/AcctSvcrRef"),
            return_reason=reason,
        )

    def entry(self, el: Any) -> None:
        self.position += 1
        where = f"entry {self.position}"
        node = _Node.of(el)
        amount = self.money(node.find("Amt"), where)
        indicator = node.text("CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            refuse(self.source, where, f"credit/debit indicator {indicator!r} is not CRDT or DBIT")
        debit = indicator == "DBIT"
        status_text = node.text("Sts/Cd") or node.text("Sts")
        status = _STATUS.get(status_text)
        if status is None:
            refuse(self.source, where, f"status {status_text!r} is not BOOK, PDNG or INFO")
        details = node.all("NtryDtls/TxDtls")
        transactions = tuple(self.transaction(d, debit, where) for d in details)
        batch = node.text("NtryDtls/Btch/NbOfTxs")
        booked = self.day(node.find("BookgDt"), where)
        valued = self.day(node.find("ValDt"), where)
        if booked is None and valued is None:
            # A notification may leave the dates out: it is about what happened when it was made.
            booked = self.created
        try:
            made = StatementEntry(
                position=self.position,
                amount=amount,
                direction=Direction.DEBIT if debit else Direction.CREDIT,
                booking_date=booked,
                value_date=valued,
                status=status,
                reversal=node.text("RvslInd").lower() in ("true", "1"),
                bank_reference=node.text("AcctSvcrRef"),
                entry_reference=node.text("NtryRef"),
                code=self.code(node.find("BkTxCd")),
                transactions=transactions,
                batch_count=int(batch) if batch.isdigit() else None,
            )
        except DomainError as error:
            refuse(self.source, where, str(error))
        self.entries.append(made)

    def statement(self) -> None:
        where = f"statement {self.statement_id or len(self.statements) + 1}"
        if not self.account:
            refuse(self.source, where, "names no account")
        currency = self.currency or (self.entries[0].amount.currency.code if self.entries else "")
        opening, closing = _booked(self.balances, self.interim)
        self.statements.append(
            BankStatement(
                source=self.source,
                statement_id=self.statement_id,
                account=self.account,
                currency=currency or (opening.currency.code if opening else ""),
                kind=self.kind,
                entries=tuple(self.entries),
                opening=opening,
                closing=closing,
                message_id=self.message_id,
            )
        )
        self._reset()


def read_camt(
    path: str, *, limits: StatementLimits | None = None, progress: Progress | None = None
) -> tuple[BankStatement, ...]:
    """Every statement (report, notification) in a camt file, or a refusal of the whole file."""
    etree = _etree()
    limits = limits or StatementLimits()
    size = check_size(path, limits)
    parser: _Camt | None = None
    message = record = ""
    try:
        with open(path, "rb") as handle:
            reader = Reader(handle, path, size, limits, progress)
            events = etree.iterparse(
                reader,
                events=("end",),
                # Only the elements read raise events; the rest is parsed in C and skipped.
                tag=_READ_TAGS,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                dtd_validation=False,
                huge_tree=False,
                remove_comments=True,
                remove_pis=True,
            )
            for _, el in events:
                if parser is None:
                    # The first element closed: the document's root and message are known.
                    parser, message, record = _root(el.getroottree().getroot(), path)
                    q = parser.q
                    entry, balance, account, ident, created, header, statement = map(
                        q.tag, ("Ntry", "Bal", "Acct", "Id", "CreDtTm", "GrpHdr", record)
                    )
                tag = el.tag
                if tag == entry:
                    parser.entry(el)
                    _forget(el)
                elif tag == balance:
                    parser.balance(el)
                elif tag == statement:
                    parser.statement()
                    _forget(el)
                elif tag in (account, ident, created):
                    if el.getparent().tag != statement and tag != created:
                        continue
                    text = (el.text or "").strip()
                    if tag == account:
                        parser.account_header(el)
                    elif tag == ident:
                        parser.statement_id = text
                    elif text:
                        parser.created = ymd(text, path, "statement")
                elif tag == header:
                    parser.header(el)
                    _forget(el)
    except etree.XMLSyntaxError as error:
        refuse(path, f"line {error.lineno}", f"not well-formed XML ({error.msg})")
    if parser is None:
        root = getattr(events, "root", None)
        if root is None:
            refuse(path, "file", "is empty")
        parser, message, record = _root(root, path)
    if not parser.statements:
        refuse(path, "file", f"holds no {record} ({message})")
    return tuple(parser.statements)


def _forget(el: Any) -> None:
    """Drop what was read, so memory stays flat however many entries a statement has."""
    el.clear()
    parent = el.getparent()
    while el.getprevious() is not None:
        del parent[0]


def _root(el: Any, path: str) -> tuple[_Camt, str, str]:
    docinfo = el.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        refuse(path, "file", "has a DTD (entity declarations are not accepted in bank files)")
    ns, local = str(el.tag)[1:].split("}", 1) if str(el.tag).startswith("{") else ("", el.tag)
    match = NAMESPACE.match(ns)
    if local != "Document" or match is None:
        refuse(
            path,
            "file",
            f"root {local!r} in namespace {ns!r} is not an ISO 20022 camt.052/053/054 "
            "document (versions 02 to 08)",
        )
    message, record, kind = _MESSAGES[match.group(1)]
    first = el[0] if len(el) else None
    if first is None or _local(first.tag) != message:
        name = _local(first.tag) if first is not None else "nothing"
        refuse(path, "file", f"{name} is not a {message} message")
    return _Camt(path, kind, ns), message, record


# --- writing --------------------------------------------------------------------------------

CAMT053_V2 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _amt(amount: Money) -> str:
    return f'<Amt Ccy="{amount.currency.code}">{amount.amount}</Amt>'


def _balance_xml(code: str, amount: Money, day: date) -> str:
    mark = "DBIT" if amount.amount < 0 else "CRDT"
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{_amt(abs(amount))}"
        f"<CdtDbtInd>{mark}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
    )


def _entry_xml(entry: StatementEntry) -> str:
    tx = entry.first
    mark = "DBIT" if entry.direction is Direction.DEBIT else "CRDT"
    code = entry.code
    btc = (
        f"<BkTxCd><Domn><Cd>{code.domain or 'PMNT'}</Cd><Fmly><Cd>{code.family or 'RCDT'}</Cd>"
        f"<SubFmlyCd>{code.subfamily or 'ESCT'}</SubFmlyCd></Fmly></Domn></BkTxCd>"
    )
    party, account = (
        ("Cdtr", "CdtrAcct") if entry.direction is Direction.DEBIT else ("Dbtr", "DbtrAcct")
    )
    parties = ""
    if tx.payer_name or tx.payer_account:
        parties = "<RltdPties>"
        if tx.payer_name:
            parties += f"<{party}><Nm>{_x(tx.payer_name)}</Nm></{party}>"
        if tx.payer_account:
            parties += f"<{account}><Id><IBAN>{_x(tx.payer_account)}</IBAN></Id></{account}>"
        parties += "</RltdPties>"
    remittance = ""
    if tx.remittance:
        remittance = f"<Ustrd>{_x(tx.remittance[:140])}</Ustrd>"
    if tx.reference:
        remittance += (
            "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{_x(tx.reference)}</Ref></CdtrRefInf></Strd>"
        )
    returned = (
        f"<RtrInf><Rsn><Cd>{_x(tx.return_reason)}</Cd></Rsn></RtrInf>" if tx.return_reason else ""
    )
    refs = f"<Refs><EndToEndId>{_x(tx.end_to_end_id or 'NOTPROVIDED')}</EndToEndId></Refs>"
    details = (
        f"<NtryDtls><TxDtls>{refs}{parties}"
        f"{f'<RmtInf>{remittance}</RmtInf>' if remittance else ''}{returned}</TxDtls></NtryDtls>"
    )
    booked = entry.booking_date or entry.date
    reference = (
        f"<AcctSvcrRef>{_x(entry.bank_reference)}</AcctSvcrRef>" if entry.bank_reference else ""
    )
    return (
        f"<Ntry>{_amt(entry.amount)}<CdtDbtInd>{mark}</CdtDbtInd>"
        f"{'<RvslInd>true</RvslInd>' if entry.reversal else ''}<Sts>BOOK</Sts>"
        f"<BookgDt><Dt>{booked.isoformat()}</Dt></BookgDt>"
        f"<ValDt><Dt>{entry.date.isoformat()}</Dt></ValDt>"
        f"{reference}{btc}{details}</Ntry>"
    )


def render_camt053(statement: BankStatement, *, created: date) -> Iterator[str]:
    """The statement as camt.053.001.02 XML, in pieces (for tests, examples and benchmarks).

    The statement needs both balances; every entry is written as booked.
    """
    if statement.opening is None or statement.closing is None:
        raise ValueError("a camt.053 statement needs its opening and closing balance")
    first = min((e.date for e in statement.entries), default=created)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield f'<Document xmlns="{CAMT053_V2}"><BkToCstmrStmt>'
    yield (
        f"<GrpHdr><MsgId>{_x(statement.message_id or statement.statement_id)}</MsgId>"
        f"<CreDtTm>{created.isoformat()}T00:00:00</CreDtTm></GrpHdr>"
    )
    yield (
        f"<Stmt><Id>{_x(statement.statement_id)}</Id>"
        f"<CreDtTm>{created.isoformat()}T00:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{_x(statement.account)}</IBAN></Id><Ccy>{statement.currency}</Ccy></Acct>"
    )
    yield _balance_xml("OPBD", statement.opening, first)
    yield _balance_xml("CLBD", statement.closing, created)
    for entry in statement.entries:
        yield _entry_xml(entry)
    yield "</Stmt></BkToCstmrStmt></Document>\n"
