"""What a keeper bot writes (issue 65), without a node: the notifier's terminal is a summary per
interval (counts, the worst vaults) while every line goes to its log file; a log file given is a
bot's log or new (a user's file is not appended to); a failed call is one line naming the call
and the reason."""

from __future__ import annotations

import io
import json

from offchain.backends.rpc import RpcError
from offchain.live.bots import error_line
from offchain.live.metrics import Log, log_problem
from offchain.live.summary import NoticeSummary


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(x) for x in stream.getvalue().splitlines()]


def _notice(owner: str, status: str, ratio: str, kind: str = "ETH-A") -> dict:
    return {
        "type": kind,
        "owner": owner,
        "status": status,
        "projected_ratio": ratio,
        "seconds_left": 600,
    }


def test_notifier_summary__one_line_per_interval__counts_and_the_worst_first():
    terminal, file = io.StringIO(), io.StringIO()
    quiet = frozenset({"notice", "notice_cleared", "proposal_notice"})
    log = Log("notifier", terminal, file, quiet=quiet)
    now = [0.0]
    summary = NoticeSummary(log, 30, "n.log", clock=lambda: now[0])
    for owner, status, ratio in [
        ("0xa", "called", "1.71"),
        ("0xb", "unsafe", "1.44"),
        ("0xc", "unsafe", "1.2"),
        ("0xd", "called", "1.6"),
    ]:
        fields = _notice(owner, status, ratio)
        log("notice", **fields)
        summary.add("notice", fields)
    log("notice_cleared", type="ETH-A", owner="0xe")
    summary.add("notice_cleared", {"type": "ETH-A", "owner": "0xe"})
    warned = {"type": "ETH-A", "owner": "0xf", "proposal": 3, "status": "called"}
    log("proposal_notice", **warned)
    summary.add("proposal_notice", warned)
    summary.flush()  # 0 s: not yet
    assert terminal.getvalue() == ""
    now[0] = 30.0
    summary.flush()
    (line,) = _lines(terminal)
    assert line["event"] == "summary" and line["interval_s"] == 30.0
    assert (line["notices"], line["cleared"]) == (4, 1)
    assert line["by_status"] == {"called": 2, "unsafe": 2} and line["by_type"] == {"ETH-A": 4}
    assert [w["owner"] for w in line["worst"]] == ["0xc", "0xb", "0xd"]  # unsafe, lowest first
    assert line["details"] == "n.log" and line["proposal_notices"] == {"3": 1}
    # every line in the file: the six vaults' and the summary
    events = ["notice"] * 4 + ["notice_cleared", "proposal_notice", "summary"]
    assert [x["event"] for x in _lines(file)] == events
    now[0] = 90.0
    summary.flush()  # nothing announced since: quiet
    summary.flush(force=True)
    assert len(_lines(terminal)) == 1


def test_log__without_a_file__every_line_on_the_terminal():
    terminal = io.StringIO()
    log = Log("notifier", terminal, None, quiet=frozenset({"notice"}))
    log("notice", owner="0xa")
    assert [x["event"] for x in _lines(terminal)] == ["notice"]  # never lost


def test_log_problem__a_users_file_folder_or_missing_folder__refused(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    assert "exists and is not a bot's log" in (log_problem(notes, given=True) or "")
    assert "is a directory" in (log_problem(tmp_path, given=True) or "")
    assert "does not exist" in (log_problem(tmp_path / "no" / "x.log", given=True) or "")
    own = tmp_path / "bot.log"
    own.write_text(json.dumps({"t": 1, "role": "notifier", "event": "started"}) + "\n")
    assert log_problem(own, given=True) is None
    assert log_problem(tmp_path / "new.log", given=True) is None
    (tmp_path / "empty.log").write_text("")
    assert log_problem(tmp_path / "empty.log", given=True) is None


def test_error_line__a_reverted_call__named_with_its_reason():
    data = (
        "0x08c379a0"
        + "0000000000000000000000000000000000000000000000000000000000000020"
        + f"{len('backstop: nothing to cover'):064x}"
        + b"backstop: nothing to cover".ljust(32, b"\0").hex()
    )
    exc = RpcError(
        "eth_call Backstop.cover(ETH-A, 12)",
        {"code": 3, "message": "execution reverted: backstop: nothing to cover", "data": data},
    )
    assert error_line(exc) == (
        "eth_call Backstop.cover(ETH-A, 12) reverted: backstop: nothing to cover"
    )
    assert error_line(KeyError("ETH-A")) == "KeyError: 'ETH-A'"
