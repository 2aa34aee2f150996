# Helpers of the sentiment stage (rules/sentiment.smk includes this file before its rules):
# input functions, settings and its final targets.
def sentiment_config():
    return config.get("sentiment") or {}


def sentiment_pairs():
    return list(sentiment_config().get("pairs", {}))


def sentiment_seeds():
    """Seeds of the fine-tuning runs: the run's seed, seed + 1, ... (`sentiment.seeds` of them; none
    without a sentiment section)."""
    return [SEED + i for i in range(int(sentiment_config()["seeds"]))] if sentiment_config() else []


def sentiment_metrics_files(pair=None):
    return [
        f"{R}/sentiment/{base}/{strategy}/{p}/seed{seed}/metrics.json"
        for p in ([pair] if pair else sentiment_pairs())
        for base, strategy in evaluated_encoders(p, "sentiment")
        for seed in sentiment_seeds()
    ]


def sentiment_data_files(wildcards):
    spec = sentiment_config()["pairs"][wildcards.pair]
    return [spec[name] for name in ("train", "dev", "test") if spec.get(name)]


@register_targets
def sentiment_targets():
    return [f"{R}/sentiment/results.csv", f"{R}/sentiment/significance.csv"] if sentiment_pairs() else []
