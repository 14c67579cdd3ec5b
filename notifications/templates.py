"""What a notification says, in Vietnamese or English: the dossier code, the procedure and the new status.

Never an ID number, a name or an address: a push travels through foreign infrastructure (FCM, APNs) and
sits on a lock screen, so it never carries the agency's note either. An SMS carries what the agency
wrote when the citizen must act on it (what a supplement request asks for, why a request was refused),
with the citizen's identifiers and any long digit run masked (`redact`), since an SMS is the one channel
that reaches an old phone with no app. SMS texts can drop diacritics for old handsets and respect GSM-7
lengths (160 characters in one SMS; a character outside GSM-7 forces UCS-2 and 70).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from core.dossier_status import DossierStatus
from core.outbox import ACTION_NEEDED

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")
GSM7_LIMIT, UCS2_LIMIT = 160, 70


@dataclass(frozen=True)
class Subject:
    """The facts a notification may carry; nothing personal.

    `note` is the agency's own words on the event (its Vietnamese note), for the SMS only; `kept_status`
    marks a note event (the status did not change: the agency refused the citizen's request).
    """

    dossier_code: str
    procedure_name_vi: str
    procedure_name_en: str
    status: DossierStatus
    note: str | None = None
    kept_status: bool = False


@dataclass(frozen=True)
class PushText:
    title: str
    body: str


_REFUSED_TITLE = ("Yêu cầu của bạn không được chấp nhận", "Your request was not accepted")
_DIGIT_RUN = re.compile(r"(?:\d[\s.-]?){8,}\d")


def redact(text: str, known: Iterable[str | None]) -> str:
    """`text` with each of `known` (the citizen's ID number, name, phone) and every run of 9 or more
    digits (ID and phone numbers, possibly spaced or dotted) replaced by `***`."""
    for secret in sorted({k.strip() for k in known if k and len(k.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(secret), "***", text, flags=re.IGNORECASE)
    return _DIGIT_RUN.sub("***", text)


def push_text(subject: Subject, locale: str) -> PushText:
    if subject.kept_status:
        vi, en = _REFUSED_TITLE
        return (PushText(title=f"Dossier {subject.dossier_code}: {en}", body=subject.procedure_name_en)
                if locale == "en" else
                PushText(title=f"Hồ sơ {subject.dossier_code}: {vi}", body=subject.procedure_name_vi))
    if locale == "en":
        return PushText(title=f"Dossier {subject.dossier_code}: {subject.status.label_en}",
                        body=subject.procedure_name_en)
    return PushText(title=f"Hồ sơ {subject.dossier_code}: {subject.status.label_vi}",
                    body=subject.procedure_name_vi)


def strip_diacritics(text: str) -> str:
    """Vietnamese without marks, case kept ("Đăng ký" -> "Dang ky")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def gsm7_length(text: str) -> int | None:
    """Septets the text needs, or None when it cannot be sent as GSM-7."""
    length = 0
    for ch in text:
        if ch in GSM7_BASIC:
            length += 1
        elif ch in GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


def sms_fits(text: str) -> bool:
    septets = gsm7_length(text)
    return septets <= GSM7_LIMIT if septets is not None else len(text) <= UCS2_LIMIT


def sms_text(subject: Subject, *, ascii_only: bool) -> str:
    """One SMS: the code, the status and, when there is one, the agency's note (else, for a status the
    citizen must act on, a hint to open the app). The procedure name is shortened, then dropped, then the
    note is shortened, rather than spill into a second message."""
    note = " ".join((subject.note or "").split())
    if len(note) > GSM7_LIMIT:  # no SMS holds more: start the shortening below from there
        note = note[:GSM7_LIMIT - 3].rstrip() + "..."
    hint = "" if note else (" Vui lòng mở ứng dụng DVC để xem." if subject.status in ACTION_NEEDED else "")
    label = "" if subject.kept_status else subject.status.label_vi
    name = "" if subject.kept_status else subject.procedure_name_vi
    prefix = "Hồ sơ"
    if ascii_only:
        label, name, note, hint, prefix = (strip_diacritics(t) for t in (label, name, note, hint, prefix))

    def compose(procedure: str, said: str) -> str:
        middle = f" ({procedure})" if procedure else ""
        words = ": ".join(part for part in (label, said) if part)
        end = "" if words.endswith((".", "!", "?")) else "."
        return f"DVC: {prefix} {subject.dossier_code}{middle}: {words}{end}{hint}"

    text = compose(name, note)
    cut = len(name)
    while not sms_fits(text) and cut > 0:
        cut -= 1
        text = compose(name[:cut].rstrip() + "..." if cut > 3 else "", note)
    cut = len(note)
    while not sms_fits(text) and cut > 0:
        cut -= 1
        words = note[:cut].rsplit(" ", 1)[0] if " " in note[:cut] else note[:cut]  # whole words
        text = compose("", words.rstrip(" ,;:") + "..." if cut > 3 else "")
    if not sms_fits(text):
        text = text[:GSM7_LIMIT if gsm7_length(text) is not None else UCS2_LIMIT]
    return text
