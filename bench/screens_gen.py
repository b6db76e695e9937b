"""The screenshot test set: phone screens showing known errors, and screens showing none.

`python -m bench.screens_gen [OUT]` (default var/screens/, which git ignores) writes PNG and
JPEG files and `manifest.json` ([{"file", "label", "kind"}]; label = the problem's key, e.g.
"vneid_activation.5.2", or null for a screen with no known problem). The same call with the
same arguments writes the same images (seeded), so anyone can regenerate the set.

Each known screen text of data/services (core.screen_match.guide_index) is drawn inside an
app's chrome — status bar, the app's header, a form with made-up personal numbers (masked
later), a dialog with the message and a button — at 1080×2400 and 720×1600, light and dark.
Then the same screens "photographed": a second phone's perspective and slight rotation, blur,
JPEG at quality 30, noise with a moiré pattern, a dim room; and as Telegram sends a photo
(longest side 1280, JPEG). The unknown screens are other messages the same apps show, some
close to the known ones in wording, drawn the same ways. Fonts: Debian's DejaVu Sans (normal,
condensed, bold; `fonts-dejavu-core`, present wherever Pillow's tests run).
"""

from __future__ import annotations

import io
import json
import math
import random
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from core.content.services import find_service_guide
from core.screen_match import guide_index
from core.settings import PROJECT_ROOT

DEFAULT_OUT = PROJECT_ROOT / "var" / "screens"
FONTS = Path("/usr/share/fonts/truetype/dejavu")
SIZES = ((1080, 2400), (720, 1600))

APPS = {
    "vneid": ("VNeID", "#c8102e"),
    "dichvucong": ("Cổng Dịch vụ công quốc gia", "#1a4e9c"),
    "mobile_money": ("Viettel Money", "#ee0033"),
}
SERVICE_APP = {
    "vneid_activation": "vneid",
    "vneid_recovery": "vneid",
    "public_portal_login": "dichvucong",
    "mobile_money": "mobile_money",
}
# Messages the same apps show that are none of the known problems (some close in wording).
UNKNOWN_TEXTS = (
    ("vneid", "Đăng nhập thành công. Chào mừng bạn đến với VNeID."),
    ("vneid", "Mật khẩu phải có từ 8 đến 20 ký tự, gồm chữ hoa, chữ thường, số và ký tự đặc biệt."),
    ("vneid", "Mã xác thực đã được gửi đến số điện thoại của bạn."),
    ("vneid", "Hệ thống đang bảo trì. Vui lòng thử lại sau."),
    ("dichvucong", "Hồ sơ của bạn đã được tiếp nhận. Vui lòng theo dõi trạng thái xử lý."),
    ("dichvucong", "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại."),
    ("mobile_money", "Số dư không đủ để thực hiện giao dịch."),
    ("mobile_money", "Giao dịch thành công. Cảm ơn quý khách."),
    ("vneid", "Không có kết nối Internet. Vui lòng kiểm tra mạng."),
    ("dichvucong", "Thanh toán thành công hóa đơn tiền điện tháng này."),
)
FORM_LINES = (
    ("Số định danh cá nhân", "{id}"),
    ("Số điện thoại", "{phone}"),
)


@dataclass(frozen=True)
class Screen:
    """One drawn screen before any photo effect."""

    app: str
    message: str
    label: str | None
    width: int
    height: int
    dark: bool
    seed: int


def font(size: int, style: str = "") -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / f"DejaVuSans{style}.ttf"), size)


def draw_screen(screen: Screen) -> Image.Image:
    """A phone screen: status bar, app header, a form, a dialog with the message."""
    rng = random.Random(screen.seed)
    w, h, unit = screen.width, screen.height, screen.width / 1080
    background, ink, card = (
        ("#121212", "#e8e8e8", "#2a2a2a") if screen.dark else ("#f4f4f4", "#1c1c1c", "#ffffff")
    )
    name, color = APPS[screen.app]
    image = Image.new("RGB", (w, h), background)
    draw = ImageDraw.Draw(image)

    def px(value: float) -> int:
        return round(value * unit)

    # Status bar and the app's header.
    draw.text(
        (px(40), px(18)),
        f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}",
        font=font(px(34)),
        fill=ink,
    )
    draw.text((w - px(200), px(18)), f"4G  {rng.randint(20, 99)}%", font=font(px(34)), fill=ink)
    draw.rectangle((0, px(80), w, px(230)), fill=color)
    draw.text((px(60), px(120)), name, font=font(px(54), "-Bold"), fill="#ffffff")
    # A form behind the dialog, with made-up personal numbers.
    values = {
        "id": f"0{rng.randint(1, 96):02d}{rng.randint(0, 3)}{rng.randint(10, 99)}"
        f"{rng.randint(100000, 999999)}",
        "phone": f"09{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
    }
    y = px(320)
    for label, value in FORM_LINES:
        draw.text((px(60), y), label, font=font(px(36)), fill=ink)
        draw.rounded_rectangle(
            (px(60), y + px(56), w - px(60), y + px(156)), px(16), fill=card, outline="#888888"
        )
        draw.text((px(90), y + px(80)), value.format(**values), font=font(px(40)), fill=ink)
        y += px(230)
    # Dim the page, then the dialog.
    shade = Image.new("RGB", (w, h), "#000000")
    image = Image.blend(image, shade, 0.45)
    draw = ImageDraw.Draw(image)
    lines = textwrap.wrap(screen.message, width=rng.choice((24, 26, 28)))
    size = px(rng.choice((44, 46, 48)))
    top = h // 2 - px(300)
    bottom = top + px(260) + len(lines) * round(size * 1.35) + px(160)
    draw.rounded_rectangle((px(70), top, w - px(70), bottom), px(36), fill=card)
    draw.text((px(120), top + px(60)), "Thông báo", font=font(size + px(6), "-Bold"), fill=ink)
    y = top + px(170)
    style = rng.choice(("", "Condensed"))
    for line in lines:
        draw.text((px(120), y), line, font=font(size, style), fill=ink)
        y += round(size * 1.35)
    draw.rounded_rectangle(
        (w // 2 - px(180), bottom - px(140), w // 2 + px(180), bottom - px(40)), px(50), fill=color
    )
    draw.text(
        (w // 2 - px(60), bottom - px(122)), "Đóng", font=font(px(44), "-Bold"), fill="#ffffff"
    )
    return image


# --- photographed-looking variants ---------------------------------------------------------------


def perspective(image: Image.Image, rng: random.Random) -> Image.Image:
    """Seen by another phone's camera: a slightly skewed quad, a few degrees of rotation."""
    w, h = image.size

    def jitter() -> float:
        return rng.uniform(0.02, 0.07)

    quad = (
        -w * jitter(), -h * jitter() / 2,
        -w * jitter() / 2, h * (1 + jitter() / 2),
        w * (1 + jitter()), h * (1 + jitter() / 2),
        w * (1 + jitter() / 2), -h * jitter() / 2,
    )  # fmt: skip
    warped = image.transform(
        (w, h), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor="#303030"
    )
    return warped.rotate(rng.uniform(-4, 4), Image.Resampling.BICUBIC, fillcolor="#303030")


def blur(image: Image.Image, rng: random.Random) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(1.2, 2.0)))


def jpeg(image: Image.Image, quality: int = 30) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def moire(image: Image.Image, rng: random.Random) -> Image.Image:
    """A screen photographed up close: fine interference lines and sensor noise."""
    w, h = image.size
    lines = Image.new("L", (w, h), 128)
    draw = ImageDraw.Draw(lines)
    spacing, angle = rng.uniform(5, 8), rng.uniform(-0.3, 0.3)
    for i in range(-h, w + h, max(1, round(spacing))):
        draw.line((i, 0, i + math.tan(angle) * h, h), fill=90, width=2)
    noise = Image.effect_noise((w, h), rng.uniform(25, 40))
    texture = Image.blend(lines, noise, 0.5).convert("RGB")
    return Image.blend(image, texture, 0.18)


def dim(image: Image.Image, rng: random.Random) -> Image.Image:
    """A dim room: darker, flatter, a little soft."""
    darker = ImageEnhance.Brightness(image).enhance(rng.uniform(0.35, 0.5))
    return ImageEnhance.Contrast(darker).enhance(0.7).filter(ImageFilter.GaussianBlur(0.8))


def telegram(image: Image.Image, rng: random.Random) -> Image.Image:
    """As Telegram delivers a photo: longest side 1280 px, JPEG."""
    scale = 1280 / max(image.size)
    small = image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )
    return jpeg(small, quality=rng.choice((70, 80, 87)))


Effect = Callable[[Image.Image, random.Random], Image.Image]
PHOTO_EFFECTS: dict[str, Effect] = {
    "perspective_blur": lambda image, rng: blur(perspective(image, rng), rng),
    "jpeg30": lambda image, rng: jpeg(perspective(image, rng)),
    "moire": lambda image, rng: jpeg(moire(perspective(image, rng), rng), quality=60),
    "dim": lambda image, rng: jpeg(dim(perspective(image, rng), rng), quality=60),
    "telegram": telegram,
}


@dataclass(frozen=True)
class Sample:
    name: str
    label: str | None
    kind: str  # "clean" or the photo effect's name
    image: Image.Image


def messages() -> list[tuple[str, str, str | None]]:
    """(app, message, label) of every screen: each known screen text in its guide's wording,
    then the unknown messages."""
    drawn: list[tuple[str, str, str | None]] = []
    for _folded, problem in guide_index():
        guide = find_service_guide(problem.service)
        assert guide is not None
        for text in guide.steps[problem.step - 1].problems[problem.index].screen_texts:
            item = (SERVICE_APP[problem.service], f"{text}. Vui lòng kiểm tra lại.", problem.key)
            if item not in drawn:
                drawn.append(item)
    return drawn + [(app, message, None) for app, message in UNKNOWN_TEXTS]


def samples() -> Iterator[Sample]:
    """Every image of the set: each message at both sizes, light and dark; the 1080-wide light
    screen with every photo effect, the dark one as Telegram delivers it and with moiré."""
    for number, (app, message, label) in enumerate(messages()):
        for (width, height), dark in [(size, dark) for size in SIZES for dark in (False, True)]:
            seed = number * 100 + width + dark
            clean = draw_screen(Screen(app, message, label, width, height, dark, seed))
            stem = f"{number:02d}_{app}_{width}_{'dark' if dark else 'light'}"
            yield Sample(f"{stem}_clean.png", label, "clean", clean)
            if width != SIZES[0][0]:
                continue
            rng = random.Random(seed)
            for effect in ("telegram", "moire") if dark else tuple(PHOTO_EFFECTS):
                yield Sample(
                    f"{stem}_{effect}.jpg", label, effect, PHOTO_EFFECTS[effect](clean, rng)
                )


def write(out: Path) -> list[dict[str, str | None]]:
    """Write the set into `out` with its manifest; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest: list[dict[str, str | None]] = []
    for sample in samples():
        path = out / sample.name
        if sample.name.endswith(".png"):
            sample.image.save(path, "PNG", optimize=False)
        else:
            sample.image.convert("RGB").save(path, "JPEG", quality=90)
        manifest.append({"file": sample.name, "label": sample.label, "kind": sample.kind})
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return manifest


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    manifest = write(out)
    known = sum(1 for item in manifest if item["label"])
    print(f"{len(manifest)} images ({known} known, {len(manifest) - known} unknown) in {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
