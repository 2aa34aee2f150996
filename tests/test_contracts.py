"""The files passed between stages, each read and written in one place: lemflow_base.json
(lemflow.encoder_meta) and the entity dictionary (lemflow.entities)."""
import json

import pytest

from lemflow.encoder_meta import META_FILE, read_meta, write_meta
from lemflow.entities import ENTITY_TYPES, read_dictionary, write_dictionary
from lemflow.errors import InputError


def test_encoder_meta_round_trip_absent_and_bad(tmp_path):
    assert read_meta(tmp_path) == {}  # a model lemflow did not write
    write_meta(tmp_path, {"fresh_mlm_head": True, "embedding": {"prefix": "query: "}})
    assert (tmp_path / META_FILE).read_text(encoding="utf-8").endswith("}\n")
    assert read_meta(tmp_path) == {"fresh_mlm_head": True, "embedding": {"prefix": "query: "}}
    (tmp_path / META_FILE).write_text('{"fresh_mlm_head": true,\n oops}', encoding="utf-8")
    with pytest.raises(InputError, match=r"lemflow_base\.json:2: invalid JSON"):
        read_meta(tmp_path)


def test_dictionary_round_trip_and_bad_line(tmp_path):
    entries = [{"ids": [5, 6, 7], "spans": [[0, 2, ENTITY_TYPES[0]]]}, {"ids": [], "spans": []}]
    path = tmp_path / "train.si.jsonl"
    write_dictionary(path, entries)
    assert read_dictionary(path) == entries
    path.write_text(json.dumps(entries[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"train\.si\.jsonl:2: invalid JSON"):
        read_dictionary(path)
