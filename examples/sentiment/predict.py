"""Rule-based sentiment analysis with VADER.

VADER (Valence Aware Dictionary and sEntiment Reasoner) scores text with a
hand-curated lexicon plus rules for negation, intensifiers ("very"), capitals,
punctuation ("!!!"), "but" clauses and emoji. The lexicon ships inside the
`vaderSentiment` package, so there is nothing to download.
"""

import re
from typing import Optional

from cog import BaseModel, BasePredictor, Input
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# Split after sentence-ending punctuation followed by whitespace. VADER itself
# scores any span; this split only drives the optional per-sentence breakdown.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


class Output(BaseModel):
    label: str
    compound: float
    positive: float
    neutral: float
    negative: float
    # Present only when per_sentence is true: [{"sentence", "label", "compound"}, ...]
    sentences: Optional[list[dict]]


def _label(compound: float, threshold: float) -> str:
    if compound >= threshold:
        return "positive"
    if compound <= -threshold:
        return "negative"
    return "neutral"


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Parse the lexicon (~7,500 entries) once."""
        self.analyzer = SentimentIntensityAnalyzer()

    # Scoring takes about a millisecond and touches no shared mutable state, so
    # predict is async: with `concurrency.max` in cog.yaml one process serves
    # several requests at once instead of queueing them.
    async def predict(
        self,
        text: str = Input(
            default="Vitrine makes running models on my own machine surprisingly easy. I love it!",
            description="English text to analyse: a sentence, a review or a short paragraph. Slang, emoji and emoticons such as :) are understood.",
        ),
        neutral_threshold: float = Input(
            default=0.05,
            ge=0.0,
            le=1.0,
            description="Compound scores within ±this value are labelled neutral (0.05 is the threshold recommended by VADER's authors).",
        ),
        per_sentence: bool = Input(
            default=False,
            description="Also return a score for each sentence.",
        ),
    ) -> Output:
        scores = self.analyzer.polarity_scores(text)
        sentences = None
        if per_sentence:
            sentences = []
            for sentence in _SENTENCE_END.split(text.strip()):
                if not sentence:
                    continue
                compound = float(self.analyzer.polarity_scores(sentence)["compound"])
                sentences.append(
                    {
                        "sentence": sentence,
                        "label": _label(compound, neutral_threshold),
                        "compound": compound,
                    }
                )
        return Output(
            label=_label(scores["compound"], neutral_threshold),
            compound=float(scores["compound"]),
            positive=float(scores["pos"]),
            neutral=float(scores["neu"]),
            negative=float(scores["neg"]),
            sentences=sentences,
        )
