"""The prediction log, configuration of the store, retention, and registry writes that conflict."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.providers import LogitProvider, Plugin, logit_model
from support.store import cloud, features, pg_database

from hotcrm_ai import AICloud
from hotcrm_ai.cli.main import cli
from hotcrm_ai.config import StoreSettings, load_settings
from hotcrm_ai.errors import ConfigError, RegistryConflictError, ValidationError


def test_log_answers_which_version_config_and_variant_served(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with cloud(url) as ai:
        ai.registry.set_alias("logit-v1", "champion", "1.0.0")
        r = ai.predict("logit-v1@champion", features(3), context={"tenant": "acme"})
        digest_v1 = ai.predictions.get(r.prediction_id).config_digest
    with cloud(url) as later:  # another process, long after the fact
        found = later.predictions.get(r.prediction_id)
        assert (found.requested_model_id, found.model_id, found.model_version) == (
            "logit-v1@champion",
            "logit-v1",
            "1.0.0",
        )
        assert found.tenant == "acme" and found.variant is None and not found.cached and not found.degraded
        assert found.output == r.prediction and found.confidence == pytest.approx(r.confidence)
        assert found.features is None  # off by default: CRM rows hold personal data
        other = later.predict("logit-v1", features(3))
        assert later.predictions.get(other.prediction_id).config_digest != digest_v1  # 2.0.0 differs
        with pytest.raises(ValidationError, match="prediction_id"):
            later.predictions.get("no-such-id")


def test_features_only_with_log_features_and_sampling(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with cloud(url, log_features=True) as ai:
        r = ai.predict("logit-v1", features(4))
        assert ai.predictions.get(r.prediction_id).features == features(4)
        batch = ai.batch_predict("logit-v1", [features(6), features(7)], use_cache=False)
        assert ai.predictions.get(batch[1].prediction_id).features == features(7)
    with cloud(url, log_sample_rate=0.0) as ai:
        r = ai.predict("logit-v1", features(5))
        with pytest.raises(ValidationError, match="log_sample_rate"):
            ai.predictions.get(r.prediction_id)
        assert ai.stats("logit-v1").total == 4  # sampling thins the log, never the monitor


def test_purge_deletes_what_is_older_than_retention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with cloud(url) as ai:
        old = ai.predict("logit-v1", features(1))
        ai.record_outcome(old.prediction_id, 1.0)
    time.sleep(0.3)
    mark = time.time()  # the cutoff: after the old prediction, well before the new one
    time.sleep(1.5)
    with cloud(url) as ai:
        new = ai.predict("logit-v1", features(2))
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text(f'[store]\nurl = "{url}"\nretention_days = {(time.time() - mark) / 86_400!r}\n')
    monkeypatch.setenv("HOTCRM_AI_CONFIG", str(config))
    res = CliRunner().invoke(cli, ["store", "purge", "--json"], catch_exceptions=False)
    import json

    assert json.loads(res.output) == {"events": 1, "outcomes": 1, "prediction_log": 1}
    with cloud(url) as ai:
        assert ai.stats("logit-v1").total == 1
        assert ai.predictions.get(new.prediction_id).model_id == "logit-v1"


def test_store_settings_from_file_and_env(tmp_path: Path) -> None:
    path = tmp_path / "hotcrm-ai.toml"
    path.write_text('[store]\nurl = { env = "MY_STORE" }\nlog_sample_rate = 0.5\npool = 3\n')
    settings = load_settings(path, env={})
    assert settings.store.url.env == "MY_STORE" and settings.store.log_sample_rate == 0.5
    assert settings.store.options == {"pool": 3}
    assert "MY_STORE" in repr(settings.store) and settings.store_configured
    env = load_settings(path, env={"HOTCRM_AI_STORE_URL": "postgresql://u:pw-planted@h/db"}).store.url
    assert env.env == "HOTCRM_AI_STORE_URL" and "pw-planted" not in repr(env)
    path.write_text("[store]\nlog_sample_rate = 2\n")
    with pytest.raises(ConfigError, match=r"\[store\] log_sample_rate: expected a number from 0 to 1"):
        load_settings(path, env={})
    assert StoreSettings().url.reveal() == "memory"


def test_store_url_as_an_env_reference_reaches_the_database_and_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text('[store]\nurl = { env = "MY_STORE_URL" }\n')
    with pg_database("hcenv") as url:
        secret_url = url.replace("postgres@", "postgres:pw-planted@")  # trust auth: the password is unused
        monkeypatch.setenv("MY_STORE_URL", secret_url)
        settings = load_settings(config, env={})
        plugin = Plugin(providers={"test-logit": LogitProvider}, models=[logit_model()])
        with AICloud(settings, plugins=[plugin], load_entrypoints=False) as ai:
            r = ai.predict("logit-v1", features(1))
            assert ai.predictions.get(r.prediction_id).model_id == "logit-v1"
            shown = f"{ai.store!r} {ai.store.info()} {settings.store!r}"
            assert "pw-planted" not in shown and "MY_STORE_URL" in repr(settings.store)
            assert ai.store.info()["url"].endswith(url.rsplit("/", 1)[1])
        monkeypatch.delenv("MY_STORE_URL")
        with pytest.raises(ConfigError, match="MY_STORE_URL is not set"):
            AICloud(settings, plugins=[plugin], load_entrypoints=False)


def test_store_keys_follow_the_one_policy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with pytest.raises(ConfigError, match=r"\[store\] unknown key 'log_sample_rat'; did you mean `log_sample_rate`\?"):
        cloud(url, options={"log_sample_rat": 0.5})
    with pytest.raises(ConfigError, match=r"\[store\] unknown key 'pool'"):
        cloud(url, options={"pool": 3})
    with pytest.raises(ConfigError, match=r"\[store\] backend: unknown 'sqll'; did you mean `sql`\?"):
        cloud(url, backend="sqll")
    with pytest.raises(ConfigError, match=r"\[store\] url: expected a string or \{env = \"NAME\"\}, got int"):
        cloud(5)  # type: ignore[arg-type]


def test_conflicting_registry_write_raises_and_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with cloud(url, refresh_s=3600) as a, cloud(url, refresh_s=3600) as b:
        a.registry.set_status("logit-v1", "testing", version="2.0.0", actor="ann")
        with pytest.raises(RegistryConflictError, match="changed by another process"):
            b.registry.set_alias("logit-v1", "champion", "1.0.0", actor="bob")
        assert b.registry.aliases() == {}
        assert [h.actor for h in b.registry.history("logit-v1")] == ["ann"]
        b.registry.refresh()
        assert b.registry.get("logit-v1", "2.0.0").status == "testing"  # a's change, seen by b
        b.registry.set_alias("logit-v1", "champion", "1.0.0", actor="bob")
    with cloud(url) as c:  # a third process: status and alias survived, the plugin's status did not win
        assert c.registry.get("logit-v1", "2.0.0").status == "testing"
        assert c.registry.get("logit-v1").version == "1.0.0"
        assert c.registry.resolve("logit-v1@champion") == ("logit-v1", "1.0.0")
        entry = c.registry.history("logit-v1")[0]
        assert entry.detail == {"before": {"status": "active"}, "after": {"status": "testing"}}


def test_alias_errors_are_typed(tmp_path: Path) -> None:
    with cloud(f"sqlite:///{tmp_path / 's.sqlite'}") as ai:
        from hotcrm_ai.errors import ModelNotFoundError

        with pytest.raises(ValidationError, match="alias"):
            ai.registry.set_alias("logit-v1", "no spaces", "1.0.0")
        with pytest.raises(ModelNotFoundError):
            ai.registry.set_alias("logit-v1", "champion", "9.9.9")
        with pytest.raises(ModelNotFoundError, match="logit-v1@nobody"):
            ai.predict("logit-v1@nobody", features(1))
        assert ai.registry.history() == []


def test_cached_batch_rows_and_hits_are_logged_like_any_prediction(tmp_path: Path) -> None:
    """The service records hits through the monitor's shortcuts (record_checked, record_checked_rows): the
    store's monitor must still log each of them."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with cloud(url) as ai:
        rows = [features(i) for i in range(5)]
        ai.batch_predict("logit-v1", rows, context={"tenant": "acme"})
        cached = ai.batch_predict("logit-v1", rows, context={"tenant": "acme"})
        hit = ai.predict("logit-v1", features(2), context={"tenant": "acme"})
        assert all(r.cached for r in cached) and hit.cached
    with cloud(url) as later:
        for r in (*cached, hit):
            found = later.predictions.get(r.prediction_id)
            assert found.cached and found.tenant == "acme" and found.output == r.prediction
