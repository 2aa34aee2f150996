"""Language codes. Nothing in the workflow hard-codes en/si/ta: any ISO 639-1 code works."""
from __future__ import annotations

from .errors import InputError

# ISO 639-1 two-letter codes.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
    hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la
    lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj
    om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv
    sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()
)


def check_language(code: str, extra: frozenset[str] | set[str] = frozenset(), where: str = "config") -> str:
    """Return ``code`` if it is an ISO 639-1 code (or declared in ``extra``), else raise."""
    if code in ISO_639_1 or code in extra:
        return code
    raise InputError(where, f"unknown language code {code!r} (expected an ISO 639-1 code such as 'en', 'si', 'ta', "
                            "or declare it under extra_languages)")


def split_pair(pair: str, extra=frozenset(), where: str = "config") -> tuple[str, str]:
    """'si-en' -> ('si', 'en'), both codes checked."""
    parts = pair.split("-")
    if len(parts) != 2 or parts[0] == parts[1]:
        raise InputError(where, f"bad language pair {pair!r}: expected 'src-tgt' with two different codes")
    return check_language(parts[0], extra, where), check_language(parts[1], extra, where)


# --------------------------------------------------------------------------- scripts
# The Unicode script (the Script property's name) in which each language is written, for the
# script check of prepare. Languages written in several scripts (ja, sr, pa-Arab, ...) are left
# out: they are not checked unless `extra_languages` declares a script for them.
LANGUAGE_SCRIPTS = {
    **dict.fromkeys("af an br bs ca co cs cy da de en eo es et eu fi fo fr fy ga gd gl hr ht hu id is it jv "
                    "la lb lt lv mg mi ms mt nb nl nn no oc pl pt ro rm sk sl sm so sq st su sv sw tl tn tr "
                    "ts uz vi wa wo xh yo zu".split(), "Latin"),
    **dict.fromkeys("ru uk be bg mk kk ky tg mn tt cv ba ce os".split(), "Cyrillic"),
    **dict.fromkeys("ar fa ur ps sd ug".split(), "Arabic"),
    **dict.fromkeys("hi mr ne sa".split(), "Devanagari"),
    **dict.fromkeys("bn as".split(), "Bengali"),
    **dict.fromkeys("he yi".split(), "Hebrew"),
    **dict.fromkeys("am ti".split(), "Ethiopic"),
    **dict.fromkeys("bo dz".split(), "Tibetan"),
    "si": "Sinhala", "ta": "Tamil", "te": "Telugu", "kn": "Kannada", "ml": "Malayalam", "gu": "Gujarati",
    "or": "Oriya", "th": "Thai", "lo": "Lao", "km": "Khmer", "my": "Myanmar", "ka": "Georgian",
    "hy": "Armenian", "el": "Greek", "dv": "Thaana", "ko": "Hangul", "zh": "Han", "iu": "Canadian_Aboriginal",
}


def check_script_name(name: str, where: str = "config") -> str:
    """``name`` if it is a Unicode script name (``Latin``, ``Sinhala``, ``Tamil``, ...), else raise."""
    import regex

    try:
        regex.compile(rf"\p{{Script={name}}}")
    except (regex.error, TypeError):
        raise InputError(where, f"unknown Unicode script {name!r} (expected a Script property value "
                                "such as 'Latin', 'Sinhala', 'Tamil', 'Devanagari')") from None
    return name


def extra_language_codes(extra_languages) -> frozenset[str]:
    """Codes of ``extra_languages`` entries (a code, or ``{code, script}``)."""
    return frozenset(e if isinstance(e, str) else e["code"] for e in extra_languages or [])


def language_scripts(extra_languages=()) -> dict[str, str]:
    """Language code -> script: :data:`LANGUAGE_SCRIPTS` updated by ``extra_languages`` entries
    ``{code, script}`` (which may also set the script of an ISO code, e.g. ``{code: sr, script: Latin}``)."""
    scripts = dict(LANGUAGE_SCRIPTS)
    for entry in extra_languages or []:
        if isinstance(entry, dict) and entry.get("script"):
            scripts[entry["code"]] = entry["script"]
    return scripts


def script_shares(lines, script: str):
    """Per line: (letters, letters in ``script``). A letter is a letter or mark of a real script
    (Common and Inherited characters such as digits, punctuation and combining accents count for
    no script)."""
    import numpy as np
    import regex

    letter = regex.compile(r"[\p{L}\p{M}--\p{Script=Common}--\p{Script=Inherited}]", regex.V1)
    own = regex.compile(rf"[\p{{Script={script}}}&&[\p{{L}}\p{{M}}]]", regex.V1)
    letters = np.array([len(letter.findall(line)) for line in lines], dtype=np.int64)
    in_script = np.array([len(own.findall(line)) for line in lines], dtype=np.int64)
    return letters, in_script


def check_script(lines, lang: str, script: str | None, threshold: float, source: str,
                 line_numbers=None, unit: str = "line") -> float | None:
    """Raise InputError when the share of ``lines``' letters written in ``script`` is below
    ``threshold``, naming ``source``, the first line below the threshold and the share; return the
    share (None when there is nothing to check: no script known for ``lang``, threshold 0, or no
    letters). ``line_numbers`` are the lines' numbers in ``source`` (default 1, 2, ...)."""
    if not script or threshold <= 0 or not len(lines):
        return None
    letters, in_script = script_shares(lines, script)
    if letters.sum() == 0:
        return None
    share = float(in_script.sum() / letters.sum())
    if share >= threshold:
        return share
    per_line = in_script / letters.clip(min=1)
    bad = (letters > 0) & (per_line < threshold)
    first = int(bad.argmax()) if bad.any() else 0
    number = line_numbers[first] if line_numbers is not None else first + 1
    where = "this line" if unit == "line" else f"{unit} {number}"
    raise InputError(source, f"only {share:.1%} of the letters are in the {script} script of language {lang!r} "
                             f"(threshold {threshold:.0%}; first below it: {where}, {per_line[first]:.0%} "
                             f"{script}, {lines[first][:60]!r}); wrong file or language code? "
                             "(data.prepare.min_script_share)",
                     number if unit == "line" else None)
