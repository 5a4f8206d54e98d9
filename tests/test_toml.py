"""Configuration errors (monoculture/_toml.py): key, line, and no secret echoed.

Catches pydantic's "Value error, " prefix leaking into messages, a value repeated twice, and
a pasted API key printed back in the error about the field meant to name its variable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monoculture.errors import InputError
from monoculture.experiment import load_experiment


def test_a_pasted_key_is_not_echoed_and_messages_read_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "e.toml"
    path.write_text(
        'name = "x"\n[agents]\nbackend = "openai"\n[endpoint]\nbase_url = "http://127.0.0.1:9"\n'
        'api_key_env = "sk-secret-123"\n'
    )
    with pytest.raises(InputError) as raised:
        load_experiment(path)
    message = str(raised.value)
    assert "api_key_env" in message
    assert "(line 6)" in message
    assert "sk-secret-123" not in message
    assert "Value error" not in message


def test_the_value_is_shown_once(tmp_path: Path) -> None:
    path = tmp_path / "e.toml"
    path.write_text('name = "x"\n[agents]\nbackend = "scripted"\ntemperatures = [-1.0]\n')
    with pytest.raises(InputError) as raised:
        load_experiment(path)
    message = str(raised.value)
    assert message.count("-1.0") == 1, message
    assert not message.endswith("..")


def test_a_key_inside_an_array_of_tables_is_not_given_another_keys_line(tmp_path: Path) -> None:
    # Catches "environment.designs.1.name (line 1)": the line of the experiment's own name.
    path = tmp_path / "e.toml"
    path.write_text(
        'name = "x"\ntopology = "environment"\n[environment]\nkind = "commons"\n'
        '[[environment.designs]]\nname = "a"\n[[environment.designs]]\nname = "a/b"\n'
        '[agents]\nbackend = "scripted"\nseeds = [0, 1, 2, 3, 4]\n'
    )
    with pytest.raises(InputError) as raised:
        load_experiment(path)
    message = str(raised.value)
    assert "environment.designs.1.name" in message
    assert "line 1)" not in message
    assert "'a/b'" in message
