"""The VAE-GAN (studio/train/vaegan.py): a trained VAE's decoder fine-tuned against a discriminator. At
dry-run size: the folder it writes loads as a generator of its own family, only the decoder moved, and it
keeps the VAE's abilities and reproducibility."""

import json

import numpy as np
import pytest
import torch

from conftest import TINY_VAE, needs_fashion
from studio.__main__ import main
from studio.pipelines import CAPABILITIES, VAEGANPipeline, open_pipeline


def write_vae_with_prior(folder):
    from studio.models.vae import ConditionalVAE
    from studio.pipelines import VAEPipeline

    torch.manual_seed(0)
    vae = ConditionalVAE(**TINY_VAE, prior_components=2, prior_hidden=16, catalog="fashion")
    VAEPipeline(vae).save_pretrained(str(folder))
    return folder


@needs_fashion
def test_a_dry_run_fine_tunes_only_the_decoder_and_writes_a_vaegan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = write_vae_with_prior(tmp_path / "vae-tiny")
    out = tmp_path / "gan-tiny"
    assert main(["train", "vaegan", "--dry-run", "--init-from", str(source), "--size", "16", "--d-width", "8",
                 "--background-weight", "0.5", "--aux-weight", "0.5", "--out", str(out)]) == 0
    pipe, before = open_pipeline(out), open_pipeline(source)
    assert isinstance(pipe, VAEGANPipeline) and pipe.family == "vaegan"
    assert CAPABILITIES["vaegan"] == CAPABILITIES["vae"]                 # variations, blends, repair carry over
    record = pipe.network.config.training
    assert record["steps"] == 4 and record["init_from"] == str(source) and "train" in record
    source_state = before.vae.state_dict()                                # the folder is stored in float16
    changed = {name.split(".")[0] for name, p in pipe.vae.state_dict().items()
               if not torch.equal(p, source_state[name].half().float())}
    assert changed and changed <= {"from_latent", "up", "to_rgb"}, changed      # the decoder alone moved
    history = json.loads((tmp_path / "runs" / "gan-tiny-dry" / "history.json").read_text())
    assert {"loss_d", "adv", "anchor", "d_mis", "backdrop", "aux_bg"} <= set(history["history"][-1])
    a = pipe("red sneaker on a white background", num_images=3, seed=7)
    b = pipe("red sneaker on a white background", num_images=3, seed=7)
    assert a.seed == 7 and all(np.array_equal(np.asarray(i), np.asarray(j)) for i, j in zip(a.images, b.images))
    other = pipe("red sneaker on a white background", num_images=3, seed=8)
    assert not np.array_equal(np.asarray(a.images[0]), np.asarray(other.images[0]))
    assert a.images[0].size == (16, 16)
    assert len(pipe.variations(a.images[0], "red sneaker", strength=0.3, num_images=2, seed=1).images) == 2


def test_the_trainer_refuses_a_vae_without_a_prior_and_a_mismatched_size(tmp_path, monkeypatch, capsys):
    from conftest import write_vae

    monkeypatch.chdir(tmp_path)
    plain = write_vae(tmp_path / "vae-plain", catalog="fashion")
    source = write_vae_with_prior(tmp_path / "vae-tiny")
    for flags, message in ((["--init-from", str(plain), "--size", "16"], "no fitted mixture prior"),
                           (["--init-from", str(tmp_path / "nothing")], "no VAE folder"),
                           (["--init-from", str(source)], "16 px fashion VAE; this run is 32 px")):
        assert main(["train", "vaegan", "--dry-run", *flags]) != 0
        assert message in capsys.readouterr().err


def test_the_studio_puts_the_vaegan_first_and_keeps_the_vae_for_repair(tmp_path):
    from studio import Studio
    from studio.models.vae import ConditionalVAE

    weights = tmp_path / "weights"
    write_vae_with_prior(weights / "vae-fashion")
    vae = ConditionalVAE.from_pretrained(str(weights / "vae-fashion"), subfolder="vae")
    VAEGANPipeline(vae).save_pretrained(str(weights / "gan-fashion"))
    studio = Studio(weights)
    assert studio.models() == ["gan-fashion", "vae-fashion"]               # the default is the VAE-GAN
    assert studio.models("variations") == ["gan-fashion", "vae-fashion"]
    out = studio.generate("red sneaker on a white background", n=2, seed=3, understand=False)
    assert out.model == "gan-fashion" and out.seed == 3
    methods = studio.repair_methods()
    assert {"vae:gan-fashion", "vae:vae-fashion"} <= set(methods.choices)
    assert methods.get("vae").target is methods.get("vae:vae-fashion")      # scripts' "vae" stays the VAE


def test_the_backdrop_term_reads_the_real_border_past_the_product():
    from studio.train.vaegan import backdrop_loss, border

    real = torch.full((2, 3, 8, 8), 0.5)
    real[:, :, 4:, 5:] = -1.0                          # a product reaching the bottom-right edge
    assert border(real).shape == (2, 3, 8 * 8 - 4 * 4)
    flat = torch.full_like(real, 0.5)                  # a fake on the named backdrop, the product inside
    flat[:, :, 2:6, 2:6] = -1.0
    assert backdrop_loss(flat, real).item() == 0.0     # the median is the backdrop, not the product
    wrong = flat.clone()
    wrong[1] = -0.5                                    # the second fake on a darker backdrop
    assert abs(backdrop_loss(wrong, real).item() - 0.5) < 1e-6
    fake = flat.clone().requires_grad_(True)
    backdrop_loss(fake * 0.9, real).backward()
    assert fake.grad[:, :, 0].abs().sum() > 0 and fake.grad[:, :, 3, 3].abs().sum() == 0


def test_the_auxiliary_backdrop_head_learns_real_labels_and_steers_the_fakes():
    """D's auxiliary head (AC-GAN) adds its cross-entropy on the two real thirds only, and its gradient
    reaches the images it reads (so the decoder can be steered by it)."""
    from types import SimpleNamespace

    from studio.models.gan import Discriminator
    from studio.train.gan import diff_augment, discriminator_step

    torch.manual_seed(0)
    D = Discriminator(size=16, width=8, text_queries=2, text_heads=2, text_width=16, aux_classes=6).eval()
    real, fake = torch.rand(4, 3, 16, 16) * 2 - 1, torch.rand(4, 3, 16, 16) * 2 - 1
    texts = (torch.randn(12, 5, 384), torch.ones(12, 5, dtype=torch.bool), torch.randn(12, 384))
    logit, aux = D(real, *(t[:4] for t in texts))
    assert logit.shape == (4,) and aux.shape == (4, 6)
    labels = torch.tensor([0, 1, 2, 5])
    run = SimpleNamespace(step=1, accelerator=SimpleNamespace(backward=lambda loss: loss.backward()))
    cfg = SimpleNamespace(r1_every=4, r1_gamma=1.0, mismatch_weight=0.5)      # step 1: no R1 this time
    opt = torch.optim.SGD(D.parameters(), lr=0.0)

    def loss(weight, fakes=fake):
        return discriminator_step(run, D, opt, real, fakes, texts, cfg, torch.Generator().manual_seed(0), 0.25,
                                  labels, weight)[0].item()

    g = torch.Generator().manual_seed(0)                  # the same augmentations, in the step's order
    seen = torch.cat([diff_augment(real, g, 0.25), diff_augment(fake, g, 0.25), diff_augment(real, g, 0.25)])
    with torch.no_grad():
        aux_all = D(seen, *texts)[1]
    expected = torch.nn.functional.cross_entropy(torch.cat([aux_all[:4], aux_all[8:]]), labels.repeat(2)).item()
    assert abs((loss(2.0) - loss(0.0)) - 2.0 * expected) < 1e-4
    other = torch.rand(4, 3, 16, 16) * 2 - 1                   # the fakes' labels never enter that term
    assert abs((loss(2.0, other) - loss(0.0, other)) - 2.0 * expected) < 1e-4
    image = fake.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(D(image, *(t[:4] for t in texts))[1], labels).backward()
    assert image.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="real images' classes"):
        discriminator_step(run, D, opt, real, fake, texts, cfg, torch.Generator().manual_seed(0), 0.25)
