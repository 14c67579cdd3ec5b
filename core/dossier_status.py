"""The ten national dossier statuses and the transitions between them.

The codes are the ones the national one-stop systems exchange, kept one to one so an agency's own states
translate cleanly. Overdue is deliberately absent: it is derived from the due date (see `deadlines`).

A dossier's history may also hold *note events*, whose `from_status` equals their `status`: something the
citizen must know that leaves the status as it is (the agency refused their withdrawal or supplement, see
`core.forward_outcomes`). They are not transitions: the status is the replay of the other events.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import DomainError, ErrorCode


class DossierStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    PROCESSING = "processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    PAYMENT_REQUESTED = "payment_requested"
    WITHDRAWAL_REQUESTED = "withdrawal_requested"
    PROCESSING_STOPPED = "processing_stopped"
    PROCESSED = "processed"
    RETURNED = "returned"

    @property
    def national_code(self) -> int:
        return _NATIONAL_CODES[self]

    @property
    def label_vi(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]

    @classmethod
    def from_national_code(cls, code: int) -> DossierStatus:
        for status, number in _NATIONAL_CODES.items():
            if number == code:
                return status
        raise ValueError(f"no national dossier status {code}")


S = DossierStatus

_NATIONAL_CODES: dict[DossierStatus, int] = {status: index for index, status in enumerate(S, start=1)}

_LABELS: dict[DossierStatus, tuple[str, str]] = {
    S.SUBMITTED: ("Mới đăng ký", "Submitted"),
    S.ACCEPTED: ("Được tiếp nhận", "Accepted"),
    S.NOT_ACCEPTED: ("Không được tiếp nhận", "Not accepted"),
    S.PROCESSING: ("Đang xử lý", "Processing"),
    S.SUPPLEMENT_REQUESTED: ("Yêu cầu bổ sung giấy tờ", "Supplement requested"),
    S.PAYMENT_REQUESTED: ("Yêu cầu thực hiện nghĩa vụ tài chính", "Payment requested"),
    S.WITHDRAWAL_REQUESTED: ("Công dân yêu cầu rút hồ sơ", "Withdrawal requested"),
    S.PROCESSING_STOPPED: ("Dừng xử lý", "Processing stopped"),
    S.PROCESSED: ("Đã xử lý xong", "Processed, result ready"),
    S.RETURNED: ("Đã trả kết quả", "Result returned"),
}

# While the agency still holds the dossier the citizen may ask to withdraw it; once accepted, the agency
# may stop processing. Before acceptance the agency's "no" is NOT_ACCEPTED, not a stop.
_OPEN = (S.SUBMITTED, S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED)

TRANSITIONS: dict[DossierStatus, frozenset[DossierStatus]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.NOT_ACCEPTED, S.WITHDRAWAL_REQUESTED}),
    S.ACCEPTED: frozenset({S.PROCESSING, S.WITHDRAWAL_REQUESTED, S.PROCESSING_STOPPED}),
    S.PROCESSING: frozenset(
        {S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED, S.PROCESSED, S.WITHDRAWAL_REQUESTED,
         S.PROCESSING_STOPPED}
    ),
    S.SUPPLEMENT_REQUESTED: frozenset({S.PROCESSING, S.WITHDRAWAL_REQUESTED, S.PROCESSING_STOPPED}),
    S.PAYMENT_REQUESTED: frozenset({S.PROCESSING, S.WITHDRAWAL_REQUESTED, S.PROCESSING_STOPPED}),
    # The agency confirms a withdrawal by stopping processing; nothing else follows a withdrawal request.
    S.WITHDRAWAL_REQUESTED: frozenset({S.PROCESSING_STOPPED}),
    S.PROCESSING_STOPPED: frozenset(),
    S.NOT_ACCEPTED: frozenset(),
    S.PROCESSED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset(),
}

TERMINAL: frozenset[DossierStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
WITHDRAWABLE: frozenset[DossierStatus] = frozenset(_OPEN)
# Statuses in which the agency's clock runs, so a passed due date means overdue.
CLOCK_RUNNING: frozenset[DossierStatus] = frozenset({S.SUBMITTED, S.ACCEPTED, S.PROCESSING})


def can_transition(current: DossierStatus, target: DossierStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: DossierStatus, target: DossierStatus) -> None:
    """Raise the typed INVALID_TRANSITION error unless `current -> target` is a national transition."""
    if not can_transition(current, target):
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            current=current.label_vi,
            target=target.label_vi,
            current_en=current.label_en,
            target_en=target.label_en,
        )


def replay(statuses: list[DossierStatus]) -> DossierStatus:
    """The current status of an append-only history; the first event must be SUBMITTED."""
    if not statuses or statuses[0] is not S.SUBMITTED:
        raise DomainError(ErrorCode.INVALID_TRANSITION, current="-", target="-", current_en="-",
                          target_en="-")
    current: DossierStatus = statuses[0]
    for target in statuses[1:]:
        check_transition(current, target)
        current = target
    return current
