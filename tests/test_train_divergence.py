"""train.py when the loss becomes NaN or infinite: the variant stops and is reported as
diverged (strict JSON, the step in the table), the other variant still trains, exit status 3."""

import json

import pytest
from test_train import run_args

import train


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, which are not JSON."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_huge_learning_rate_diverges_and_exits_3(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "diverged"
    argv = run_args(tiny_mnist, out, "--model", "mlp", "--lr", "1e4")  # plain: NaN by step 10
    assert train.main(argv) == train.EXIT_DIVERGED == 3
    captured = capsys.readouterr()
    assert "plain: training diverged: the training loss is nan at step 10" in captured.err
    assert "exit status 3: plain diverged" in captured.err
    summary = strict_json((out / "summary.json").read_text())
    assert summary["plain"]["diverged_at_step"] == 10
    assert summary["plain"]["final_test_accuracy"] is None
    assert summary["plain"]["best_test_accuracy"] is None
    assert summary["bn"]["diverged_at_step"] is None
    assert summary["bn"]["steps"] == 30
    assert "diverged at step 10" in captured.out


def test_a_diverged_variant_does_not_stop_the_other(tiny_mnist, tmp_path, monkeypatch, capsys):
    train_step = train.Run.train_step

    def bn_goes_nan_at_step_6(self, images, labels):
        loss, correct = train_step(self, images, labels)
        if self.variant == "bn" and self.progress.step >= 5:
            loss = loss * float("nan")
        return loss, correct

    monkeypatch.setattr(train.Run, "train_step", bn_goes_nan_at_step_6)
    out = tmp_path / "run"
    assert train.main(run_args(tiny_mnist, out)) == 3
    summary = strict_json((out / "summary.json").read_text())
    # seen at the first logging sync after it (the evaluation at step 10), not per step
    assert summary["bn"]["diverged_at_step"] == 10
    assert summary["plain"]["diverged_at_step"] is None
    assert summary["plain"]["steps"] == 30
    assert 0 <= summary["plain"]["final_test_accuracy"] <= 1

    capsys.readouterr()
    monkeypatch.setattr(train.Run, "train_step", train_step)
    assert train.main(["--resume", str(out)]) == 3  # a result: resuming does not retrain it
    assert "bn diverged at step 10, plain finished at step 30" in capsys.readouterr().out
