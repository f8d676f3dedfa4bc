"""A synthetic catalog shaped like Replicate's: well-known models plus thousands of
fine-tunes and community models, with real Cog schema shapes and long-tailed run counts.

Used by the search relevance suite and the search benchmark (`bench/bench_search.py`),
and by `manage.py load_demo --synthetic N` to fill the pages. Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from registry.models import MLModel, ModelRunDay, Owner, Tag, Version

Schema = dict[str, Any]
URI: dict[str, Any] = {"type": "string", "format": "uri"}


@dataclass
class SyntheticModel:
    owner: str
    name: str
    description: str
    tags: list[str]
    schema: Schema
    run_count: int
    runs_7d: int
    hardware: str = "gpu-t4"
    readme: str = ""
    visibility: str = "public"
    age_days: float = 30.0
    family: str = ""


# Cog schemas ---------------------------------------------------------------------------


def cog_schema(
    inputs: dict[str, dict[str, Any]], output: dict[str, Any], **enums: list[Any]
) -> Schema:
    """An OpenAPI document shaped the way Cog writes it: ordered inputs, enums as
    components referenced through `allOf`, and the Output component."""
    properties: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for order, (name, prop) in enumerate(inputs.items()):
        if name in enums:
            values = enums[name]
            components[name] = {
                "title": name,
                "description": "An enumeration.",
                "enum": values,
                "type": "integer" if isinstance(values[0], int) else "string",
            }
            prop = {"allOf": [{"$ref": f"#/components/schemas/{name}"}], **prop}
        properties[name] = {"title": name.replace("_", " ").title(), **prop, "x-order": order}
    components["Input"] = {
        "title": "Input",
        "type": "object",
        "properties": properties,
        "required": [n for n, p in inputs.items() if "default" not in p][:1],
    }
    components["Output"] = {"title": "Output", **output}
    components["Status"] = {
        "title": "Status",
        "description": "An enumeration.",
        "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
        "type": "string",
    }
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": components},
    }


def _prompt(description: str = "Input prompt") -> dict[str, Any]:
    return {"type": "string", "description": description}


def _int(default: int, lo: int, hi: int, description: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "default": default,
        "minimum": lo,
        "maximum": hi,
        "description": description,
    }


def _num(default: float, description: str) -> dict[str, Any]:
    return {"type": "number", "default": default, "description": description}


def _bool(default: bool, description: str) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "description": description}


LIST_OF_FILES = {"type": "array", "items": URI}
STREAMED_TEXT = {
    "type": "array",
    "items": {"type": "string"},
    "x-cog-array-type": "iterator",
    "x-cog-array-display": "concatenate",
}


def text_to_image() -> Schema:
    return cog_schema(
        {
            "prompt": _prompt(),
            "negative_prompt": {"type": "string", "default": "", "description": "Things to avoid"},
            "width": _int(1024, 256, 2048, "Width of output image"),
            "height": _int(1024, 256, 2048, "Height of output image"),
            "num_outputs": _int(1, 1, 4, "Number of images to output"),
            "scheduler": {"default": "K_EULER", "description": "Scheduler"},
            "guidance_scale": _num(7.5, "Scale for classifier-free guidance"),
            "num_inference_steps": _int(30, 1, 100, "Number of denoising steps"),
            "seed": {"type": "integer", "description": "Random seed. Leave blank to randomize"},
        },
        LIST_OF_FILES,
        scheduler=["DDIM", "K_EULER", "DPMSolverMultistep"],
    )


def image_to_image() -> Schema:
    return cog_schema(
        {
            "image": {**URI, "description": "Input image"},
            "prompt": _prompt(),
            "strength": _num(0.8, "Prompt strength when using img2img"),
            "seed": {"type": "integer", "description": "Random seed"},
        },
        LIST_OF_FILES,
    )


def inpainting() -> Schema:
    return cog_schema(
        {
            "image": {**URI, "description": "Input image to inpaint"},
            "mask": {**URI, "description": "Black and white mask; white pixels are inpainted"},
            "prompt": _prompt(),
        },
        LIST_OF_FILES,
    )


def upscaler() -> Schema:
    return cog_schema(
        {
            "image": {**URI, "description": "Input image"},
            "scale": _num(4, "Factor to scale image by"),
            "face_enhance": _bool(False, "Run GFPGAN face enhancement along with upscaling"),
        },
        URI,
    )


def face_restoration() -> Schema:
    return cog_schema(
        {
            "img": {**URI, "description": "Input"},
            "version": {"default": "v1.4", "description": "GFPGAN version"},
            "scale": _num(2, "Rescaling factor"),
        },
        URI,
        version=["v1.2", "v1.3", "v1.4"],
    )


def background_removal() -> Schema:
    return cog_schema({"image": {**URI, "description": "Input image"}}, URI)


def image_captioning() -> Schema:
    return cog_schema(
        {
            "image": {**URI, "description": "Input image"},
            "task": {"default": "image_captioning", "description": "Choose a task"},
            "question": {"type": "string", "description": "Type question for the input image"},
        },
        {"type": "string"},
        task=["image_captioning", "visual_question_answering", "image_text_matching"],
    )


def vision_language() -> Schema:
    return cog_schema(
        {
            "image": {**URI, "description": "Input image"},
            "prompt": _prompt("Prompt to use for text generation"),
            "temperature": _num(0.2, "Adjusts randomness of outputs"),
            "max_tokens": _int(1024, 0, 4096, "Maximum number of tokens to generate"),
        },
        STREAMED_TEXT,
    )


def language_model() -> Schema:
    return cog_schema(
        {
            "prompt": _prompt("Prompt to send to the model"),
            "system_prompt": {
                "type": "string",
                "default": "You are a helpful assistant",
                "description": "System prompt to send to the model",
            },
            "max_new_tokens": _int(512, 1, 8192, "Maximum number of tokens to generate"),
            "temperature": _num(0.7, "Randomness of outputs"),
            "top_p": _num(0.95, "Nucleus sampling"),
        },
        STREAMED_TEXT,
    )


def speech_to_text() -> Schema:
    return cog_schema(
        {
            "audio": {**URI, "description": "Audio file"},
            "model": {"default": "large-v3", "description": "Choose a Whisper model"},
            "language": {"type": "string", "default": "auto", "description": "Spoken language"},
            "translate": _bool(False, "Translate the text to English when set to True"),
            "transcription": {
                "default": "plain text",
                "description": "Choose the format for the transcription",
            },
        },
        {
            "type": "object",
            "title": "Output",
            "properties": {
                "transcription": {"type": "string", "title": "Transcription"},
                "segments": {"title": "Segments"},
                "detected_language": {"type": "string", "title": "Detected Language"},
            },
            "required": ["transcription", "detected_language"],
        },
        model=["tiny", "base", "small", "medium", "large-v3"],
        transcription=["plain text", "srt", "vtt"],
    )


def text_to_speech() -> Schema:
    return cog_schema(
        {
            "text": _prompt("Text to synthesize"),
            "speaker": {**URI, "description": "Original speaker audio (wav, mp3, m4a)"},
            "language": {"default": "en", "description": "Output language"},
        },
        URI,
        language=["en", "es", "fr", "de", "it", "pt", "zh"],
    )


def music_generation() -> Schema:
    return cog_schema(
        {
            "prompt": _prompt("A description of the music you want to generate"),
            "melody": {**URI, "description": "An audio file that will influence the melody"},
            "duration": _int(8, 1, 60, "Duration of the generated audio in seconds"),
            "model_version": {"default": "stereo-large", "description": "Model to use"},
        },
        URI,
        model_version=["stereo-melody-large", "stereo-large", "melody-large", "large"],
    )


def text_to_video() -> Schema:
    return cog_schema(
        {
            "prompt": _prompt(),
            "num_frames": _int(24, 8, 120, "Number of frames for the output video"),
            "fps": _int(8, 1, 30, "fps for the output video"),
            "seed": {"type": "integer", "description": "Random seed"},
        },
        URI,
    )


def image_to_video() -> Schema:
    return cog_schema(
        {
            "input_image": {**URI, "description": "Input image to animate"},
            "motion_bucket_id": _int(127, 1, 255, "Amount of motion"),
            "frames_per_second": _int(6, 5, 30, "Frames per second"),
        },
        URI,
    )


def video_processing() -> Schema:
    return cog_schema(
        {
            "video": {**URI, "description": "Input video"},
            "target_fps": _int(60, 1, 240, "Frames per second of the output"),
        },
        URI,
    )


def embeddings() -> Schema:
    return cog_schema(
        {"text": _prompt("Text to embed"), "normalize": _bool(True, "Normalize the vector")},
        {"type": "array", "items": {"type": "number"}},
    )


def object_detection() -> Schema:
    return cog_schema(
        {
            "image": {**URI, "description": "Input image"},
            "query": {"type": "string", "description": "Comma separated names of objects"},
            "box_threshold": _num(0.25, "Confidence level for object detection"),
        },
        {"type": "object", "title": "Output"},
    )


def ocr() -> Schema:
    return cog_schema({"image": {**URI, "description": "Image with text"}}, {"type": "string"})


def audio_separation() -> Schema:
    stems = {n: {**URI, "title": n.title()} for n in ("vocals", "drums", "bass", "other")}
    return cog_schema(
        {"audio": {**URI, "description": "Upload the file to be processed here"}},
        {"type": "object", "title": "Output", "properties": stems},
    )


def translation() -> Schema:
    return cog_schema(
        {
            "text": _prompt("Text to translate"),
            "target_language": {"default": "French", "description": "Target language"},
        },
        {"type": "string"},
        target_language=["English", "French", "German", "Spanish", "Japanese"],
    )


def text_classification() -> Schema:
    return cog_schema(
        {"text": _prompt("Text to classify")},
        {
            "type": "object",
            "properties": {"label": {"type": "string"}, "score": {"type": "number"}},
        },
    )


# Families: how generated models of each kind are named and described ------------------


@dataclass(frozen=True)
class Family:
    name: str
    schema: Callable[[], Schema]
    stems: tuple[str, ...]
    phrases: tuple[str, ...]  # task descriptions, "{subject}" filled in
    tags: tuple[str, ...]
    weight: int
    hardware: str = "gpu-t4"


SUBJECTS = (
    "pixar stills",
    "watercolor paintings",
    "anime portraits",
    "vintage photos",
    "product shots",
    "pixel art",
    "architecture",
    "comic books",
    "studio ghibli films",
    "oil paintings",
    "cyberpunk cities",
    "tarot cards",
    "botanical drawings",
    "logos",
    "interior design",
    "fashion photography",
    "cats",
    "dogs",
    "sneakers",
    "tattoos",
    "medical scans",
    "satellite imagery",
    "podcasts",
    "lectures",
    "meetings",
    "songs",
    "customer reviews",
    "legal contracts",
    "python code",
    "recipes",
    "poetry",
)
SUFFIXES = (
    "lora",
    "finetune",
    "v2",
    "turbo",
    "xl",
    "lite",
    "pro",
    "mini",
    "hd",
    "fast",
    "style",
    "plus",
    "uncensored",
    "instruct",
    "beta",
    "community",
    "remix",
    "tuned",
)
FAMILIES: tuple[Family, ...] = (
    Family(
        "text-to-image",
        text_to_image,
        (
            "sdxl",
            "flux",
            "stable-diffusion",
            "kandinsky",
            "playground",
            "dreamshaper",
            "realvis",
            "juggernaut",
            "openjourney",
            "proteus",
        ),
        (
            "Generate images of {subject} from a text prompt",
            "A text-to-image model fine-tuned on {subject}",
            "SDXL LoRA trained on {subject}",
            "Diffusion model that paints {subject}",
        ),
        ("text-to-image", "image-generation", "diffusion", "lora"),
        30,
        "gpu-a100-large",
    ),
    Family(
        "image-to-image",
        image_to_image,
        ("img2img", "controlnet", "style-transfer", "instruct-pix2pix", "ip-adapter"),
        ("Transform photos into {subject}", "Image-to-image editing in the style of {subject}"),
        ("image-to-image", "image-editing", "controlnet"),
        8,
    ),
    Family(
        "inpainting",
        inpainting,
        ("inpainting", "outpainting", "fill", "object-removal"),
        ("Inpaint masked regions of an image", "Fill a masked area with {subject}"),
        ("inpainting", "image-editing"),
        3,
    ),
    Family(
        "upscaler",
        upscaler,
        ("esrgan", "upscaler", "super-resolution", "swinir", "4x-upscale"),
        ("Upscale images 4x with sharp details", "Image super-resolution for {subject}"),
        ("upscaling", "super-resolution", "image-restoration"),
        5,
    ),
    Family(
        "face-restoration",
        face_restoration,
        ("gfpgan", "codeformer", "face-restore", "restoreformer"),
        ("Restore old and blurry faces in photos", "Face restoration for {subject}"),
        ("face-restoration", "image-restoration"),
        2,
    ),
    Family(
        "background-removal",
        background_removal,
        ("rembg", "remove-bg", "background-removal", "matting"),
        ("Remove the background from images", "Cut out subjects from {subject}"),
        ("background-removal", "segmentation"),
        2,
        "cpu",
    ),
    Family(
        "captioning",
        image_captioning,
        ("blip", "captioner", "image-caption", "git-caption"),
        ("Generate captions for images", "Describe {subject} in words"),
        ("image-captioning", "image-to-text", "vision"),
        3,
    ),
    Family(
        "vision-language",
        vision_language,
        ("llava", "moondream", "qwen-vl", "cogvlm", "idefics"),
        (
            "A multimodal model that answers questions about images",
            "Chat about images of {subject}",
        ),
        ("vision-language", "multimodal", "image-to-text"),
        3,
        "gpu-a100-large",
    ),
    Family(
        "language-model",
        language_model,
        ("llama", "mistral", "mixtral", "gemma", "qwen", "phi", "falcon", "vicuna", "zephyr", "yi"),
        (
            "A large language model fine-tuned for chat about {subject}",
            "Instruction-tuned LLM that writes {subject}",
            "Text generation model for {subject}",
        ),
        ("llm", "text-generation", "chat", "language-model"),
        18,
        "gpu-a100-large",
    ),
    Family(
        "speech-to-text",
        speech_to_text,
        ("whisper", "asr", "transcriber", "wav2vec2", "distil-whisper"),
        (
            "Transcribe speech in audio to text",
            "Speech recognition for {subject}",
            "Automatic speech recognition with timestamps",
        ),
        ("speech-recognition", "speech-to-text", "audio", "transcription"),
        4,
    ),
    Family(
        "text-to-speech",
        text_to_speech,
        ("tts", "voice-clone", "xtts", "styletts", "tortoise"),
        ("Text to speech with natural voices", "Clone a voice and read {subject} aloud"),
        ("text-to-speech", "voice-cloning", "audio"),
        3,
    ),
    Family(
        "music",
        music_generation,
        ("musicgen", "audiogen", "riffusion", "music-maker", "stable-audio"),
        ("Generate music from a text description", "Compose songs inspired by {subject}"),
        ("music-generation", "audio", "text-to-audio"),
        2,
    ),
    Family(
        "text-to-video",
        text_to_video,
        ("zeroscope", "animatediff", "text2video", "videocrafter", "hotshot"),
        ("Generate short videos from text", "Text-to-video model for clips of {subject}"),
        ("text-to-video", "video-generation"),
        3,
        "gpu-a100-large",
    ),
    Family(
        "image-to-video",
        image_to_video,
        ("stable-video-diffusion", "i2vgen", "animate", "svd"),
        ("Animate a still image into a video", "Turn photos of {subject} into video clips"),
        ("image-to-video", "video-generation"),
        2,
        "gpu-a100-large",
    ),
    Family(
        "video",
        video_processing,
        ("frame-interpolation", "rife", "video-upscale", "deflicker"),
        ("Smooth slow motion by interpolating video frames", "Improve videos of {subject}"),
        ("video", "frame-interpolation"),
        1,
    ),
    Family(
        "embeddings",
        embeddings,
        ("embeddings", "mpnet", "bge", "e5", "clip-features"),
        ("Text embeddings for semantic search", "Sentence vectors for {subject}"),
        ("embeddings", "semantic-search"),
        2,
        "cpu",
    ),
    Family(
        "detection",
        object_detection,
        ("yolo", "grounding-dino", "owl-vit", "detr", "segment-anything"),
        ("Detect objects in images with bounding boxes", "Find {subject} in photos"),
        ("object-detection", "vision"),
        3,
    ),
    Family(
        "ocr",
        ocr,
        ("ocr", "text-extract", "donut", "trocr"),
        ("Extract text from images and scanned documents", "Read text in photos of {subject}"),
        ("ocr", "image-to-text"),
        1,
        "cpu",
    ),
    Family(
        "audio-separation",
        audio_separation,
        ("demucs", "spleeter", "stem-splitter"),
        ("Separate vocals, drums and bass from a song", "Split {subject} into stems"),
        ("audio", "source-separation"),
        1,
    ),
    Family(
        "translation",
        translation,
        ("translator", "nllb", "seamless", "madlad"),
        ("Translate text between languages", "Machine translation for {subject}"),
        ("translation", "text"),
        1,
        "cpu",
    ),
    Family(
        "classification",
        text_classification,
        ("sentiment", "toxicity", "classifier", "zero-shot"),
        ("Classify the sentiment of text", "Text classification for {subject}"),
        ("classification", "text"),
        1,
        "cpu",
    ),
)
FAMILY = {family.name: family for family in FAMILIES}

# Well-known models, with what people search them by. (owner, name, family, description,
# run count, tags)
LANDMARKS: tuple[tuple[str, str, str, str, int, tuple[str, ...]], ...] = (
    (
        "stability-ai",
        "stable-diffusion",
        "text-to-image",
        "A latent text-to-image diffusion model capable of generating photo-realistic images "
        "given any text input",
        110_000_000,
        ("text-to-image",),
    ),
    (
        "stability-ai",
        "sdxl",
        "text-to-image",
        "A text-to-image generative AI model that creates beautiful images",
        75_000_000,
        ("text-to-image",),
    ),
    (
        "stability-ai",
        "stable-diffusion-inpainting",
        "inpainting",
        "Fill in masked parts of images with Stable Diffusion",
        20_000_000,
        ("inpainting",),
    ),
    (
        "black-forest-labs",
        "flux-schnell",
        "text-to-image",
        "The fastest image generation model tailored for local development and personal use",
        300_000_000,
        ("text-to-image",),
    ),
    (
        "black-forest-labs",
        "flux-dev",
        "text-to-image",
        "A 12 billion parameter rectified flow transformer capable of generating images from "
        "text descriptions",
        20_000_000,
        ("text-to-image",),
    ),
    (
        "bytedance",
        "sdxl-lightning-4step",
        "text-to-image",
        "SDXL-Lightning by ByteDance: a fast text-to-image model that makes high-quality images "
        "in 4 steps",
        600_000_000,
        ("text-to-image",),
    ),
    (
        "nightmareai",
        "real-esrgan",
        "upscaler",
        "Real-ESRGAN with optional face correction and adjustable upscale",
        60_000_000,
        ("upscaling",),
    ),
    (
        "philz1337x",
        "clarity-upscaler",
        "upscaler",
        "High resolution image upscaler and enhancer",
        15_000_000,
        ("upscaling",),
    ),
    (
        "tencentarc",
        "gfpgan",
        "face-restoration",
        "Practical face restoration algorithm for old photos or AI-generated faces",
        80_000_000,
        ("face-restoration",),
    ),
    (
        "sczhou",
        "codeformer",
        "face-restoration",
        "Robust face restoration algorithm for old photos / AI-generated faces",
        25_000_000,
        ("face-restoration",),
    ),
    (
        "cjwbw",
        "rembg",
        "background-removal",
        "Remove images background",
        15_000_000,
        ("background-removal",),
    ),
    (
        "salesforce",
        "blip",
        "captioning",
        "Generate image captions",
        150_000_000,
        ("image-captioning",),
    ),
    (
        "yorickvp",
        "llava-13b",
        "vision-language",
        "Visual instruction tuning towards large language and vision models with GPT-4 level "
        "capabilities",
        30_000_000,
        ("vision-language",),
    ),
    (
        "meta",
        "llama-2-70b-chat",
        "language-model",
        "A 70 billion parameter language model from Meta, fine tuned for chat completions",
        10_000_000,
        ("llm", "chat"),
    ),
    (
        "meta",
        "meta-llama-3-8b-instruct",
        "language-model",
        "An 8 billion parameter language model from Meta, fine tuned for chat completions",
        300_000_000,
        ("llm", "chat"),
    ),
    (
        "meta",
        "musicgen",
        "music",
        "Generate music from a prompt or melody",
        3_000_000,
        ("music-generation",),
    ),
    (
        "mistralai",
        "mixtral-8x7b-instruct-v0.1",
        "language-model",
        "The Mixtral-8x7B-instruct-v0.1 Large Language Model is a pretrained generative Sparse "
        "Mixture of Experts tuned to be a helpful assistant",
        15_000_000,
        ("llm",),
    ),
    (
        "openai",
        "whisper",
        "speech-to-text",
        "Convert speech in audio to text",
        80_000_000,
        ("speech-recognition", "audio"),
    ),
    (
        "vaibhavs10",
        "incredibly-fast-whisper",
        "speech-to-text",
        "whisper-large-v3, incredibly fast, powered by Hugging Face Transformers",
        8_000_000,
        ("speech-recognition",),
    ),
    (
        "suno-ai",
        "bark",
        "text-to-speech",
        "Text-prompted generative audio model: realistic speech, music and sound effects",
        4_000_000,
        ("text-to-speech",),
    ),
    (
        "lucataco",
        "xtts-v2",
        "text-to-speech",
        "Coqui XTTS-v2: multilingual text to speech voice cloning",
        3_000_000,
        ("text-to-speech", "voice-cloning"),
    ),
    (
        "anotherjesse",
        "zeroscope-v2-xl",
        "text-to-video",
        "Zeroscope V2 XL & 576w: text to video",
        2_000_000,
        ("text-to-video",),
    ),
    (
        "stability-ai",
        "stable-video-diffusion",
        "image-to-video",
        "SVD is a research-only image to video model",
        3_000_000,
        ("image-to-video",),
    ),
    (
        "google-research",
        "frame-interpolation",
        "video",
        "Frame Interpolation for Large Scene Motion",
        1_000_000,
        ("video",),
    ),
    (
        "replicate",
        "all-mpnet-base-v2",
        "embeddings",
        "A sentence-transformers model: maps sentences to a 768 dimensional dense vector space",
        5_000_000,
        ("embeddings",),
    ),
    (
        "adirik",
        "grounding-dino",
        "detection",
        "Detect everything with language",
        2_000_000,
        ("object-detection",),
    ),
    (
        "abiruyt",
        "text-extract-ocr",
        "ocr",
        "A simple OCR model to extract text from images",
        40_000_000,
        ("ocr",),
    ),
    (
        "cjwbw",
        "demucs",
        "audio-separation",
        "Demucs is an audio source separator created by Facebook Research",
        600_000,
        ("audio",),
    ),
    (
        "cjwbw",
        "seamless-communication",
        "translation",
        "SeamlessM4T: massively multilingual and multimodal machine translation",
        200_000,
        ("translation",),
    ),
)

_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "zen",
    "ra",
    "to",
    "vi",
    "xa",
    "bo",
    "qu",
    "ne",
    "sa",
    "fi",
    "ju",
    "da",
    "ri",
    "po",
    "ly",
    "mo",
    "ta",
    "ar",
    "el",
    "on",
    "ix",
)


def _handle(rng: random.Random) -> str:
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
    return word + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")


def _runs(rng: random.Random) -> int:
    # Long tail: most community models have a few hundred runs, a few have millions.
    return int(math.exp(rng.gauss(5.0, 2.2)))


def _readme(title: str, description: str, family: Family) -> str:
    return (
        f"# {title}\n\n{description}.\n\n## Usage\n\n"
        f"Run it with the `replicate` client. Tags: {', '.join(family.tags)}.\n\n"
        "```python\nimport replicate\noutput = replicate.run(...)\n```\n"
    )


@dataclass
class _Names:
    taken: set[str] = field(default_factory=set)

    def unique(self, owner: str, name: str) -> str:
        candidate, n = name, 2
        while f"{owner}/{candidate}" in self.taken:
            candidate, n = f"{name}-{n}", n + 1
        self.taken.add(f"{owner}/{candidate}")
        return candidate


def generate(count: int, *, seed: int = 7, private_share: float = 0.03) -> Iterator[SyntheticModel]:
    """`count` models: the landmarks first, then generated ones."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    names = _Names()
    owners = [_handle(rng) for _ in range(max(10, count // 12))]
    for owner, name, family_name, description, runs, tags in LANDMARKS[:count]:
        family = FAMILY[family_name]
        names.unique(owner, name)
        yield SyntheticModel(
            owner=owner,
            name=name,
            description=description,
            tags=list(dict.fromkeys([*tags, *family.tags[:2]])),
            schema=family.schema(),
            run_count=runs,
            runs_7d=int(runs * rng.uniform(0.002, 0.02)),
            hardware=family.hardware,
            readme=_readme(name, description, family),
            age_days=rng.uniform(20, 600),
            family=family.name,
        )
    weights = [family.weight for family in FAMILIES]
    for _ in range(max(0, count - len(LANDMARKS))):
        family = rng.choices(FAMILIES, weights)[0]
        owner = rng.choice(owners)
        stem, suffix = rng.choice(family.stems), rng.choice(SUFFIXES)
        subject = rng.choice(SUBJECTS)
        slug = subject.split()[0]
        pattern = rng.randrange(3)
        base = (
            f"{stem}-{suffix}"
            if pattern == 0
            else f"{stem}-{slug}"
            if pattern == 1
            else f"{slug}-{stem}-{suffix}"
        )
        name = names.unique(owner, base)
        description = rng.choice(family.phrases).format(subject=subject)
        runs = _runs(rng)
        picked = rng.sample(family.tags, k=min(len(family.tags), rng.randint(1, 3)))
        yield SyntheticModel(
            owner=owner,
            name=name,
            description=description[0].upper() + description[1:],
            tags=picked,
            schema=family.schema(),
            run_count=runs,
            runs_7d=int(runs * rng.uniform(0, 0.05)) if rng.random() < 0.6 else 0,
            hardware=family.hardware,
            readme=_readme(name, description, family) if rng.random() < 0.5 else "",
            visibility="private" if rng.random() < private_share else "public",
            age_days=rng.uniform(1, 900),
            family=family.name,
        )


def load(models: Iterable[SyntheticModel], *, batch_size: int = 2000) -> int:
    """Insert the models fast (bulk inserts; no search indexing: run
    `registry.search.documents.rebuild_all` or `manage.py reindex` after). Returns how
    many were inserted."""
    now = timezone.now()
    today = now.date()
    owners = {o.username: o for o in Owner.objects.all()}
    tags = {t.name: t for t in Tag.objects.all()}
    through = MLModel.tags.through
    inserted = 0
    batch: list[SyntheticModel] = []

    def flush() -> None:
        nonlocal inserted
        new_owners = sorted({m.owner for m in batch} - set(owners))
        for owner in Owner.objects.bulk_create(
            [Owner(username=u, kind=Owner.Kind.ORGANIZATION) for u in new_owners]
        ):
            owners[owner.username] = owner
        new_tags = sorted({t for m in batch for t in m.tags} - set(tags))
        for tag in Tag.objects.bulk_create([Tag(name=t) for t in new_tags]):
            tags[tag.name] = tag
        rows = []
        for item in batch:
            published = now - timedelta(days=item.age_days)
            rows.append(
                MLModel(
                    owner=owners[item.owner],
                    name=item.name,
                    description=item.description,
                    readme=item.readme,
                    visibility=item.visibility,
                    hardware_id=item.hardware,
                    run_count=item.run_count,
                    created_at=published,
                    latest_version_created_at=published,
                    # Versions are inserted next; the foreign key is checked at commit.
                    latest_version_id=_version_id(item),
                )
            )
        created = MLModel.objects.bulk_create(rows)
        Version.objects.bulk_create(
            [
                Version(
                    id=_version_id(item),
                    model_id=model.pk,
                    cog_version="0.13.7",
                    openapi_schema=item.schema,
                    created_at=model.latest_version_created_at,
                )
                for item, model in zip(batch, created, strict=True)
            ]
        )
        through.objects.bulk_create(
            [
                through(mlmodel_id=model.pk, tag_id=tags[t].pk)
                for item, model in zip(batch, created, strict=True)
                for t in item.tags
            ]
        )
        ModelRunDay.objects.bulk_create(
            [
                ModelRunDay(model_id=model.pk, day=today - timedelta(days=1), runs=item.runs_7d)
                for item, model in zip(batch, created, strict=True)
                if item.runs_7d
            ]
        )
        inserted += len(batch)
        batch.clear()

    with transaction.atomic():
        for item in models:
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    return inserted


def _version_id(item: SyntheticModel) -> str:
    return hashlib.sha256(f"synthetic:{item.owner}/{item.name}".encode()).hexdigest()
