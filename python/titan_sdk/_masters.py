"""Several master addresses, and finding the leader among them (as src/protocol/masters.ts).

Masters that share a store elect one leader; a standby refuses a HELLO with ``NOT_LEADER`` and,
when it knows it, the leader's ``host:port``. :func:`parse_masters` reads a comma-separated list
(``host:port``, an IPv6 address in brackets, port 9090 by default); :class:`LeaderSearch` says in
which order to dial them and how long to wait between rounds.
"""

import re
from typing import List, Optional, Sequence, Set, Tuple, Union

from .errors import BadRequestError

DEFAULT_PORT = 9090

Master = Tuple[str, int]

_ENTRY = re.compile(r"^(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$")


def format_master(master: Master) -> str:
    """``host:port`` as it is dialled and shown; an IPv6 host in brackets."""
    host, port = master
    return "[{}]:{}".format(host, port) if ":" in host else "{}:{}".format(host, port)


def parse_master(entry: str, default_port: int = DEFAULT_PORT) -> Master:
    """One ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``; BadRequestError naming it otherwise."""
    text = entry.strip()
    m = _ENTRY.match(text)
    if m is None:
        hint = " (write an IPv6 address in brackets: [::1]:9090)" if text.count(":") > 1 and not text.startswith("[") else ""
        raise BadRequestError('"{}" is not a master address HOST or HOST:PORT{}'.format(text, hint))
    port = default_port if m.group(3) is None else int(m.group(3))
    if not 1 <= port <= 65535:
        raise BadRequestError('"{}": the port must be from 1 to 65535'.format(text))
    return (m.group(1) or m.group(2), port)


def parse_masters(masters: Union[str, Sequence[str]], default_port: int = DEFAULT_PORT) -> List[Master]:
    """A comma-separated list (or the entries already split), in order, without repeats."""
    entries = masters.split(",") if isinstance(masters, str) else list(masters)
    out = []  # type: List[Master]
    for i, entry in enumerate(entries):
        if not isinstance(entry, str) or entry.strip() == "":
            raise BadRequestError("no master address given" if len(entries) == 1 else "entry {} of the master list is empty".format(i + 1))
        master = parse_master(entry, default_port)
        if master not in out:
            out.append(master)
    if not out:
        raise BadRequestError("no master address given")
    return out


class LeaderSearch(object):
    """The order in which to dial the masters: each once per round, from the last leader; a
    standby's hint is dialled next; a round that found no leader is followed by a wait that
    doubles from ``first`` up to ``most`` seconds."""

    def __init__(self, masters: Sequence[Master], first: float = 0.25, most: float = 2.0) -> None:
        if not masters:
            raise BadRequestError("no master address given")
        self.masters = list(masters)
        self._first = first
        self._most = most
        self._wait = first
        self._start = 0
        self._index = 0
        self._hint = None  # type: Optional[Master]
        self.tried = []  # type: List[str]
        self._seen = set()  # type: Set[str]

    @property
    def several(self) -> bool:
        return len(self.masters) > 1

    def _note(self, master: Master) -> None:
        text = format_master(master)
        if text not in self._seen:
            self._seen.add(text)
            self.tried.append(text)

    def next(self) -> Tuple[Master, float]:
        """The next master to dial, and the seconds to wait before dialling it."""
        if self._hint is not None:
            master, self._hint = self._hint, None
            self._note(master)
            return master, 0.0
        wait = 0.0
        if self._index >= len(self.masters):
            self._index = 0
            wait = self._wait
            self._wait = min(self._most, self._wait * 2)
        master = self.masters[(self._start + self._index) % len(self.masters)]
        self._index += 1
        self._note(master)
        return master, wait

    def refused(self, leader: Optional[str], dialled: Master) -> None:
        """The master dialled is a standby; ``leader`` is its hint, if any."""
        if not leader:
            return
        try:
            hinted = parse_master(leader)
        except BadRequestError:
            return
        if hinted != dialled:
            self._hint = hinted

    def found(self, master: Master) -> None:
        if master in self.masters:
            self._start = self.masters.index(master)
        self._index = 0
        self._hint = None
        self._wait = self._first
        self.tried = []
        self._seen = set()

    def restart(self) -> None:
        """A new search from the last leader (the hint of a NOT_LEADER reply, if any, first)."""
        self._index = 0
        self.tried = []
        self._seen = set()
