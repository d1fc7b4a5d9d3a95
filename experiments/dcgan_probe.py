"""DCGAN (the course's architecture and optimizer) scored against the training budget.

    CS231N_DATA=../shared/data PYTHONPATH=. python experiments/dcgan_probe.py B ITERS EVERY LR TAG

Trains build_dc_classifier / build_dc_generator with get_optimizer's Adam (beta1 0.5) at learning
rate LR on full MNIST in batches of B, one PyTorch thread, and every EVERY iterations scores 2,000
digits (the same noise each time) from the generator and from its moving average (decay 0.995):
(classifier score, Fréchet distance) against 2,000 test digits. At the end it scores the averaged
generator with the noise shrunk by 0.8 and 0.6 (the "truncation" trick). Output: dcgan_probe_*.log
beside this file, from a 2-core machine shared with other jobs (the seconds are only rough).
dcgan_probe_b128_lr1e-3.log came from an earlier copy of this script that also scored the generator
in training mode (batch statistics): the columns it shares with this one are the same computation.
Rewritten for readability after the runs (the same steps, seeds and scores). Session 5
(2026-12-02): what it showed is in the GAN issue's notes; no notebook quotes it.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import torch

from cs231n import data_utils, gan_scoring, gan_utils
from cs231n import gan_pytorch as P


def score(scorer, images) -> tuple[float, float]:
    result = scorer.score(images)
    return round(result["classifier_score"], 3), round(result["frechet_distance"], 1)


def main(batch_size: int, num_iters: int, every: int, learning_rate: float, tag: str) -> None:
    torch.set_num_threads(1)
    scorer = gan_scoring.load_scorer()
    scorer.set_reference(data_utils.load_mnist()["X_test"][:2000])
    torch.manual_seed(0)
    D, G = P.build_dc_classifier(), P.build_dc_generator()
    D.apply(P.initialize_weights)
    G.apply(P.initialize_weights)
    G_average = copy.deepcopy(G).requires_grad_(False)
    D_solver, G_solver = P.get_optimizer(D), P.get_optimizer(G)
    for solver in (D_solver, G_solver):
        solver.param_groups[0]["lr"] = learning_rate
    loader = P.mnist_loader(batch_size)

    it, train_seconds = 0, 0.0
    while it < num_iters:
        for x, _ in loader:
            start = time.perf_counter()
            real = P.preprocess_img(x)
            fake = G(P.sample_noise(batch_size, 96))
            d_loss = P.discriminator_loss(D(real), D(fake.detach()))
            D_solver.zero_grad()
            d_loss.backward()
            D_solver.step()
            g_loss = P.generator_loss(D(fake))
            G_solver.zero_grad()
            g_loss.backward()
            G_solver.step()
            P.update_average(G_average, G, gan_utils.ema_decay_at(it, 0.995))
            train_seconds += time.perf_counter() - start
            it += 1
            if it % every == 0 or it == num_iters:
                out = {"eval": score(scorer, P.generate(G, 2000, seed=2)),
                       "ema_eval": score(scorer, P.generate(G_average, 2000, seed=2))}
                print(it, f"{train_seconds:.0f}s", out, flush=True)
            if it >= num_iters:
                break
    Path("build/probe").mkdir(parents=True, exist_ok=True)
    torch.save({"G": G.state_dict(), "E": G_average.state_dict(), "D": D.state_dict()},
               f"build/probe/dc_{tag}.pt")
    G_average.eval()
    for scale in (1.0, 0.8, 0.6):
        z = P.sample_noise(2000, 96, seed=2) * scale
        with torch.no_grad():
            images = gan_utils.deprocess_img(G_average(z)).numpy()
        print("noise scale", scale, score(scorer, images), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
