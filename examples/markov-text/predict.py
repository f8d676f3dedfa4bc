"""Streaming Markov-chain text generator trained on Sherlock Holmes stories.

`setup()` builds word-level Markov chains (markovify) from the first five
stories of *The Adventures of Sherlock Holmes* (Arthur Conan Doyle, 1892,
public domain), bundled as `sherlock-holmes.txt`. `predict()` streams the
generated text word by word.
"""

import random
import re
import time
from pathlib import Path as FsPath
from typing import Optional

import markovify
from cog import BasePredictor, ConcatenateIterator, Input, streaming

CORPUS = FsPath(__file__).parent / "sherlock-holmes.txt"
STATE_SIZES = [1, 2, 3]


class Predictor(BasePredictor):
    def setup(self) -> None:
        text = CORPUS.read_text(encoding="utf-8")
        # markovify skips any source sentence containing a double quote or a
        # parenthesis (to avoid generating unbalanced ones), which would drop
        # nearly all of the dialogue. Removing the quote marks keeps it.
        text = text.replace('"', "")
        # Collapse the hard line wraps of the original edition.
        text = re.sub(r"\s*\n\s*", " ", text)
        started = time.time()
        self.models = {
            n: markovify.Text(text, state_size=n, retain_original=True).compile()
            for n in STATE_SIZES
        }
        print(
            f"Built {len(self.models)} chains from {len(text):,} characters in "
            f"{time.time() - started:.2f}s"
        )

    # @streaming advertises Server-Sent Events support (x-cog-streaming in the
    # schema). It is a marker only: chunks are yielded the same way either way.
    @streaming
    def predict(
        self,
        sentences: int = Input(
            default=5,
            ge=1,
            le=30,
            description="Number of sentences to generate.",
        ),
        seed: Optional[int] = Input(
            default=None,
            ge=0,
            le=2_147_483_647,
            description="Random seed. Leave empty for a random one; the seed used is printed in the logs. The same seed and settings always give the same text.",
        ),
        state_size: int = Input(
            default=2,
            choices=STATE_SIZES,
            description="Words of context per step. 1 is wild and ungrammatical, 2 is a good balance, 3 stays close to the original sentences.",
        ),
        start_with: str = Input(
            default="",
            description="Optional word (or up to state_size words) to start the first sentence with, e.g. 'Holmes'. Must appear in the stories; otherwise it is ignored.",
        ),
        max_sentence_words: int = Input(
            default=40,
            ge=5,
            le=100,
            description="Longest sentence to accept, in words.",
        ),
        stream_delay: float = Input(
            default=0.01,
            ge=0.0,
            le=0.2,
            description="Pause after each streamed word, in seconds, so the text appears progressively. 0 streams as fast as possible.",
        ),
    ) -> ConcatenateIterator[str]:
        if seed is None:
            seed = random.SystemRandom().randint(0, 2_147_483_647)
        print(f"Using seed: {seed}")
        # markovify draws from the module-level `random` generator. That is
        # safe to seed here because this predictor runs one prediction at a
        # time (no concurrency setting in cog.yaml).
        random.seed(seed)
        model = self.models[state_size]
        options = {"tries": 200, "max_words": max_sentence_words}

        first_word = True
        for index in range(sentences):
            sentence = None
            if index == 0 and start_with.strip():
                try:
                    sentence = model.make_sentence_with_start(
                        start_with.strip(), strict=False, **options
                    )
                except (KeyError, markovify.text.ParamError):
                    print(f"No sentence can start with {start_with.strip()!r}; ignoring start_with")
            if sentence is None:
                sentence = model.make_sentence(**options)
            if sentence is None:
                # Every try was too long or copied the source too closely;
                # accept an unchecked sentence rather than stop early.
                sentence = (
                    model.make_sentence(tries=200, max_words=max_sentence_words, test_output=False)
                    or ""
                )
            for word in sentence.split():
                yield word if first_word else " " + word
                first_word = False
                if stream_delay:
                    time.sleep(stream_delay)
