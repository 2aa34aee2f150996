import copy

import pytest
import yaml

from lemflow.cli import REPO, main, validate_config
from lemflow.config_checks import check_config
from lemflow.errors import InputError


def load(name):
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["config.yaml", "config/shared.yaml", "config/paper.yaml"])
def test_configs_match_schema(name):
    validate_config(REPO / name, check_files=False)


def _write(tmp_path, config):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_unknown_key_is_named(tmp_path, capsys):
    config = load("config.yaml")
    config["data"]["prepare"]["max_wrods"] = 10
    assert main(["check-config", str(_write(tmp_path, config)), "--no-files"]) == 1
    err = capsys.readouterr().err
    assert "max_wrods" in err


def test_wrong_type_is_named(tmp_path, capsys):
    config = load("config.yaml")
    config["seed"] = "thirteen"
    assert main(["check-config", str(_write(tmp_path, config)), "--no-files"]) == 1
    assert "thirteen" in capsys.readouterr().err


def test_unknown_language_code():
    config = copy.deepcopy(load("config.yaml"))
    config["data"]["pairs"] = {"xq-en": {"format": "text", "path": "x"}}
    config.pop("curation")  # it names the demo's pairs (lemflow.plan checks curation.pairs)
    with pytest.raises(InputError, match="unknown language code 'xq'"):
        check_config(config, check_files=False)
    config["extra_languages"] = ["xq"]
    check_config(config, check_files=False)


def test_missing_corpus_names_file_and_key(tmp_path):
    config = copy.deepcopy(load("config.yaml"))
    config["data"]["pairs"] = {"si-en": {"format": "text", "path": str(tmp_path / "nope")}}
    with pytest.raises(InputError, match=r"nope\.si: file does not exist \(config key data\.pairs\.si-en\.path\)"):
        check_config(config)
