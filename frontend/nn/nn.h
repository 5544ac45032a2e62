// nn.h: the whole nn library (Module, layers, attention, transformer models).
#pragma once

#include "frontend/nn/attention.h"
#include "frontend/nn/layers.h"
#include "frontend/nn/module.h"
#include "frontend/nn/transformer.h"
